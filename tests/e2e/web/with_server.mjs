#!/usr/bin/env node
// @ts-check
// Starts a Custos server command, waits for the two lines `custos demo` prints
//   Custos is running at http://127.0.0.1:PORT/
//   Credentials: DIR/credentials.txt
// runs ui_e2e.mjs against it, stops the server (SIGTERM, then SIGKILL after 10 s) and exits
// with the test's status. A fresh temporary --data-dir is appended unless the command has one.
//
// usage: node tests/e2e/web/with_server.mjs [--keep-data] -- COMMAND [ARGS...]
//   e.g. -- build/custos demo --port 0
//        -- node web/dev/mock-server.mjs --port 0

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
if (dash === -1 || dash === argv.length - 1) {
  console.error('usage: with_server.mjs [--keep-data] -- COMMAND [ARGS...]');
  process.exit(2);
}
const keep = argv.slice(0, dash).includes('--keep-data');
const command = argv.slice(dash + 1);
let dataDir = '';
if (!command.includes('--data-dir')) {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-e2e-data-'));
  command.push('--data-dir', dataDir);
}
const STARTUP_MS = 120_000;

const started = Date.now();
console.log(`with_server: starting ${command.join(' ')}`);
const server = spawn(command[0] ?? '', command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
/** @type {string[]} */
const serverLog = [];
const remember = (/** @type {string} */ line) => {
  serverLog.push(line);
  if (serverLog.length > 200) serverLog.shift();
};
readline.createInterface({ input: server.stderr }).on('line', remember);

/** @type {Promise<{url: string, credentials: string}>} */
const ready = new Promise((resolve, reject) => {
  let url = '';
  let credentials = '';
  const timer = setTimeout(() => reject(new Error(`the server printed no URL and credentials within ${STARTUP_MS / 1000} s`)), STARTUP_MS);
  readline.createInterface({ input: server.stdout }).on('line', (line) => {
    remember(line);
    const u = /Custos is running at (\S+)/.exec(line);
    if (u) url = u[1] ?? '';
    const c = /^Credentials: (.+)$/.exec(line.trim());
    if (c) credentials = c[1] ?? '';
    if (url && credentials) {
      clearTimeout(timer);
      resolve({ url, credentials });
    }
  });
  server.on('exit', (code, signal) => {
    clearTimeout(timer);
    reject(new Error(`the server exited (${signal ?? code}) before it was ready`));
  });
  server.on('error', (error) => {
    clearTimeout(timer);
    reject(error);
  });
});

/** @returns {Promise<void>} */
function stopServer() {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => server.kill('SIGKILL'), 10_000);
    server.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    server.kill('SIGTERM');
  });
}

let code = 1;
try {
  const { url, credentials } = await ready;
  console.log(`with_server: server ready at ${url} after ${Date.now() - started} ms`);
  const test = spawn(process.execPath, [path.join(HERE, 'ui_e2e.mjs'), '--url', url, '--credentials', credentials], { stdio: 'inherit' });
  code = await new Promise((resolve) => test.on('exit', (c) => resolve(c ?? 1)));
} catch (error) {
  console.error(`with_server: ${error instanceof Error ? error.message : String(error)}`);
}
await stopServer();
if (code !== 0) console.error(`with_server: last server output:\n  ${serverLog.slice(-40).join('\n  ')}`);
if (dataDir && !keep) fs.rmSync(dataDir, { recursive: true, force: true });
console.log(`with_server: done in ${Date.now() - started} ms, exit ${code}`);
process.exit(code);
