#!/usr/bin/env node
// @ts-check
// A stand-in for `custos demo` to develop and test the web UI without the C++ server. It keeps
// to docs/api.md: the same routes, JSON shapes, error form ({"error": {code, message}}), status
// codes, permission table (docs/auth.md), CSRF check, SSE format, multipart MJPEG and MP4 with
// byte ranges. Fake data: three cameras (one of them disconnected), a day of past events, a new
// event every few seconds, recordings that started two hours before the mock did.
//
// usage: node dev/mock-server.mjs [--port 8787] [--data-dir DIR] [--tile-url URL]
//        [--attribution TEXT] [--dist DIR] [--event-interval-ms 4000]
// Like `custos demo` it prints "Custos is running at http://127.0.0.1:PORT/" and
// "Credentials: DIR/credentials.txt" (admin and investigator accounts, mode 0600).
// Needs ffmpeg on PATH (tools/setup.sh installs it) to make its JPEG frames and MP4 clip.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string>} */
  const out = {};
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i] ?? '';
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${key}`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${key} needs a value`);
    out[key.slice(2)] = value;
    i += 1;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const PORT = Number(args['port'] ?? 8787);
const DATA_DIR = args['data-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'custos-mock-'));
const DIST = path.resolve(args['dist'] ?? path.join(HERE, '..', 'dist'));
const TILE_URL = args['tile-url'] ?? '';
const ATTRIBUTION = args['attribution'] ?? '';
const EVENT_INTERVAL_MS = Number(args['event-interval-ms'] ?? 4000);
const START_MS = Date.now();

// ---------------------------------------------------------------------------------------------
// Roles and permissions: docs/auth.md, permission table.
/** @type {Record<string, string[]>} */
const ROLE_PERMISSIONS = {
  viewer: ['read_transparency', 'live_view_blurred'],
  operator: ['read_transparency', 'live_view_blurred', 'view_alerts', 'acknowledge_alerts'],
  investigator: ['read_transparency', 'search_events', 'playback', 'plate_query', 'export', 'propose_watchlist'],
  supervisor: ['read_transparency', 'approve_watchlist', 'approve_unblurred_export', 'evidence_hold'],
  auditor: ['read_transparency', 'read_audit', 'read_statistics', 'read_config'],
  admin: ['read_transparency', 'read_config', 'manage_cameras', 'manage_users', 'manage_policies'],
};
/** @type {Record<string, string>} */
const PERMISSION_TEXT = {
  live_view_blurred: 'watch live video',
  view_alerts: 'view alerts',
  search_events: 'search events',
  playback: 'play back recorded video',
  export: 'export video',
  manage_users: 'manage users',
  manage_cameras: 'manage cameras',
};

// ---------------------------------------------------------------------------------------------
// Media made once with ffmpeg: JPEG frames for live view and snapshots, one H.264 MP4 clip.
const MEDIA = path.join(DATA_DIR, 'mock-media');
const CLIP_SECONDS = 60;
function makeMedia() {
  fs.mkdirSync(MEDIA, { recursive: true });
  const clip = path.join(MEDIA, 'clip.mp4');
  try {
    if (!fs.existsSync(path.join(MEDIA, 'frame-001.jpg'))) {
      execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=5', '-frames:v', '20', '-q:v', '6', path.join(MEDIA, 'frame-%03d.jpg')]);
    }
    if (!fs.existsSync(clip)) {
      execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=10`, '-t', String(CLIP_SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '20', '-movflags', '+faststart', clip]);
    }
  } catch (error) {
    console.error(`mock-server: ffmpeg failed (is it installed? tools/setup.sh installs it): ${String(error)}`);
    process.exit(1);
  }
  const frames = fs.readdirSync(MEDIA).filter((f) => f.startsWith('frame-')).sort().map((f) => fs.readFileSync(path.join(MEDIA, f)));
  return { frames, clip: fs.readFileSync(clip) };
}
const media = makeMedia();

// ---------------------------------------------------------------------------------------------
// Cameras, health, recordings.
/**
 * @typedef {{ id: string, name: string, enabled: boolean, location: {lat: number, lon: number} | null,
 *   url: string, rtsp_transport: string, connected: boolean, disconnected_ms: number | null }} MockCamera
 */
/** @type {MockCamera[]} */
const CAMERAS = [
  { id: 'entrance', name: 'Main entrance', enabled: true, location: { lat: 52.52081, lon: 13.40945 }, url: 'rtsp://viewer:***@10.0.0.21:554/stream1', rtsp_transport: 'tcp', connected: true, disconnected_ms: null },
  { id: 'parking', name: 'Car park north', enabled: true, location: { lat: 52.52172, lon: 13.41131 }, url: 'rtsp://10.0.0.22:554/live?token=***', rtsp_transport: 'udp', connected: false, disconnected_ms: START_MS - 3 * 60_000 },
  { id: 'platform', name: 'Tram platform', enabled: true, location: { lat: 52.51968, lon: 13.40712 }, url: 'file:///var/lib/custos/demo/vtest.mp4', rtsp_transport: 'tcp', connected: true, disconnected_ms: null },
];
const cameraById = new Map(CAMERAS.map((c) => [c.id, c]));
const SEGMENT_MS = 60_000;
const RECORDING_START_MS = Math.floor((START_MS - 2 * 3600_000) / SEGMENT_MS) * SEGMENT_MS;
// A gap in every camera's recording (a storage hiccup, say): 30 to 25 minutes before start.
const GAP = { start_ms: START_MS - 30 * 60_000, end_ms: START_MS - 25 * 60_000 };

/** Segments of `camera` overlapping [from, to): whole minutes, none in the gap, none after a disconnect. */
function segmentsOf(/** @type {MockCamera} */ camera, /** @type {number} */ from, /** @type {number} */ to) {
  const end = camera.connected ? Date.now() : (camera.disconnected_ms ?? Date.now());
  const out = [];
  const first = Math.max(RECORDING_START_MS, Math.floor(from / SEGMENT_MS) * SEGMENT_MS);
  for (let s = first; s < Math.min(to, end); s += SEGMENT_MS) {
    const e = Math.min(s + SEGMENT_MS, end);
    if (e <= from || s >= to) continue;
    if (s < GAP.end_ms && e > GAP.start_ms) continue;
    out.push({ id: `${camera.id}-${s}`, start_ms: s, end_ms: e, bytes: Math.round(((e - s) / 1000) * 180_000) });
  }
  return out;
}

/** Spans merge segments that follow each other within 2 s (docs/api.md). */
function spansOf(/** @type {{start_ms: number, end_ms: number}[]} */ segments) {
  /** @type {{start_ms: number, end_ms: number}[]} */
  const spans = [];
  for (const s of segments) {
    const last = spans[spans.length - 1];
    if (last && s.start_ms - last.end_ms <= 2000) last.end_ms = Math.max(last.end_ms, s.end_ms);
    else spans.push({ start_ms: s.start_ms, end_ms: s.end_ms });
  }
  return spans;
}

function health() {
  const now = Date.now();
  const cameras = CAMERAS.map((c) => {
    const segments = segmentsOf(c, RECORDING_START_MS, now);
    return {
      camera: c.id,
      connected: c.connected,
      fps: c.connected ? 9.5 + Math.random() : 0,
      frames_dropped: c.connected ? Math.floor((now - START_MS) / 60_000) : 12,
      reconnects: c.connected ? 0 : Math.floor((now - (c.disconnected_ms ?? now)) / 10_000),
      last_frame_ms: c.connected ? now - 80 : (c.disconnected_ms ?? 0),
      last_error: c.connected ? '' : 'Connection refused (rtsp://10.0.0.22:554/live?token=***)',
      detect_frames_dropped: c.connected ? 3 : 0,
      recording: { mode: 'continuous', active: c.connected, segments: segments.length, bytes: segments.reduce((a, s) => a + s.bytes, 0), packets_dropped: 0, error: '' },
    };
  });
  return { status: cameras.every((c) => c.connected) ? 'ok' : 'degraded', time_ms: now, cameras, disks: [{ name: 'recordings', total_bytes: 500e9, free_bytes: 312e9 }] };
}

// ---------------------------------------------------------------------------------------------
// Events with ULIDs (docs/events.md).
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastUlid = { time: -1, random: 0n };
function ulid(/** @type {number} */ time_ms) {
  let random;
  if (time_ms === lastUlid.time) random = lastUlid.random + 1n;
  else random = BigInt(`0x${randomBytes(10).toString('hex')}`);
  lastUlid = { time: time_ms, random };
  let t = BigInt(time_ms);
  let out = '';
  for (let i = 0; i < 10; i += 1) {
    out = CROCKFORD[Number(t % 32n)] + out;
    t /= 32n;
  }
  let r = random;
  let tail = '';
  for (let i = 0; i < 16; i += 1) {
    tail = CROCKFORD[Number(r % 32n)] + tail;
    r /= 32n;
  }
  return out + tail;
}

const LABELS = ['person', 'person', 'person', 'car', 'car', 'bicycle', 'truck'];
const TYPES = ['track_start', 'track_start', 'track_end', 'zone_enter', 'zone_leave', 'line_cross', 'loiter'];
/** @typedef {{ id: string, camera: string, time_ms: number, time: string, type: string, label: string, track_id: number, score: number, box: number[], zone?: string, direction?: string, dwell_ms?: number, snapshot?: string }} MockEvent */
let trackId = 1;
const pick = (/** @type {string[]} */ list) => list[Math.floor(Math.random() * list.length)] ?? '';
function makeEvent(/** @type {string} */ camera, /** @type {number} */ time_ms) {
  const type = pick(TYPES);
  const id = ulid(time_ms);
  /** @type {MockEvent} */
  const e = {
    id,
    camera,
    time_ms,
    time: new Date(time_ms).toISOString(),
    type,
    label: pick(LABELS),
    track_id: trackId++,
    score: Math.round((0.5 + Math.random() * 0.5) * 100) / 100,
    box: [Math.round(Math.random() * 280), Math.round(Math.random() * 180), 24, 48],
  };
  if (type.startsWith('zone') || type === 'loiter') e.zone = camera === 'parking' ? 'bays' : 'doorway';
  if (type === 'line_cross') {
    e.zone = 'gate';
    e.direction = Math.random() < 0.5 ? 'in' : 'out';
  }
  if (type === 'loiter' || type === 'zone_leave' || type === 'track_end') e.dwell_ms = Math.round(2000 + Math.random() * 60_000);
  if (type !== 'track_end' && Math.random() < 0.7) e.snapshot = `snapshots/${camera}/${id}.jpg`;
  // Keys in alphabetical order, as EventToJson writes them.
  return /** @type {MockEvent} */ (Object.fromEntries(Object.entries(e).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** @type {MockEvent[]} all events, ascending id */
const EVENTS = [];
for (let t = START_MS - 24 * 3600_000; t < START_MS; t += 20_000 + Math.random() * 100_000) {
  EVENTS.push(makeEvent(pick(CAMERAS.map((c) => c.id)), Math.round(t)));
}

/** @type {Set<{res: http.ServerResponse, filter: Record<string, string>}>} */
const streams = new Set();
const MAX_EVENT_STREAMS = 8;
function publish(/** @type {MockEvent} */ e) {
  EVENTS.push(e);
  for (const s of streams) {
    if (!matches(e, s.filter)) continue;
    s.res.write(`id: ${e.id}\nevent: event\ndata: ${JSON.stringify(e)}\n\n`);
  }
}
function matches(/** @type {MockEvent} */ e, /** @type {Record<string, string>} */ f) {
  if (f['camera'] && e.camera !== f['camera']) return false;
  if (f['type'] && e.type !== f['type']) return false;
  if (f['label'] && e.label !== f['label']) return false;
  if (f['zone'] && (e.zone ?? '') !== f['zone']) return false;
  if (f['from'] && e.time_ms < Number(f['from'])) return false;
  if (f['to'] && e.time_ms >= Number(f['to'])) return false;
  return true;
}
const eventTimer = setInterval(() => {
  const live = CAMERAS.filter((c) => c.connected);
  publish(makeEvent(pick(live.map((c) => c.id)), Date.now()));
}, EVENT_INTERVAL_MS);
const heartbeatTimer = setInterval(() => {
  for (const s of streams) s.res.write(': heartbeat\n\n');
}, 15_000);

// ---------------------------------------------------------------------------------------------
// Users and sessions.
/** @typedef {{ username: string, role: string, password: string, disabled: boolean, created_ms: number }} MockUser */
/** @type {Map<string, MockUser>} */
const USERS = new Map();
/** @type {Map<string, { username: string, csrf: string, expires_ms: number }>} */
const SESSIONS = new Map();
const SESSION_MS = 12 * 3600_000;
const secret = () => randomBytes(24).toString('base64url');

function addUser(/** @type {string} */ username, /** @type {string} */ password, /** @type {string} */ role) {
  USERS.set(username, { username, role, password, disabled: false, created_ms: Date.now() });
}
const credentials = [
  { username: 'admin', password: secret(), role: 'admin' },
  { username: 'investigator', password: secret(), role: 'investigator' },
];
for (const c of credentials) addUser(c.username, c.password, c.role);
const CREDENTIALS_FILE = path.join(DATA_DIR, 'credentials.txt');
function writeCredentials() {
  fs.rmSync(CREDENTIALS_FILE, { force: true });
  fs.writeFileSync(
    CREDENTIALS_FILE,
    '# Custos demo accounts (mock server). Owner-only file.\n' + credentials.map((c) => `username: ${c.username}\npassword: ${c.password}\nrole: ${c.role}\n`).join('\n'),
    { mode: 0o600 },
  );
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing.
class HttpError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const bad = (/** @type {string} */ m) => new HttpError(400, 'invalid_argument', m);
const API_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};
function tileOrigin() {
  try {
    return TILE_URL ? new URL(TILE_URL.replace(/[{}]/g, '')).origin : '';
  } catch {
    return '';
  }
}
const UI_CSP =
  `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:${tileOrigin() ? ` ${tileOrigin()}` : ''}; ` +
  "connect-src 'self'; media-src 'self' blob:; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** @param {http.ServerResponse} res @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
function sendError(/** @type {http.ServerResponse} */ res, /** @type {HttpError} */ e, /** @type {Record<string, string>} */ headers = {}) {
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, headers);
}

/**
 * @typedef {{ user: MockUser, session: string, csrf: string } | null} Caller
 * @typedef {{ req: http.IncomingMessage, res: http.ServerResponse, url: URL, params: Record<string, string>,
 *   query: Record<string, string>, body: unknown, caller: Caller }} Ctx
 * @typedef {{ method: 'GET' | 'POST', path: string, access: 'anyone' | 'signed_in', permission: string,
 *   query?: string[], json?: boolean, handler: (ctx: Ctx) => void | Promise<void> }} Route
 */

/** @type {Route[]} */
const ROUTES = [
  { method: 'POST', path: '/api/login', access: 'anyone', permission: 'read_transparency', json: true, handler: login },
  { method: 'POST', path: '/api/logout', access: 'signed_in', permission: 'read_transparency', handler: logout },
  { method: 'GET', path: '/api/me', access: 'signed_in', permission: 'read_transparency', handler: me },
  { method: 'GET', path: '/api/cameras', access: 'signed_in', permission: 'read_transparency', handler: cameras },
  { method: 'GET', path: '/api/health', access: 'signed_in', permission: 'read_transparency', handler: ({ res }) => sendJson(res, 200, health()) },
  { method: 'GET', path: '/api/events', access: 'signed_in', permission: 'search_events', query: ['camera', 'type', 'label', 'zone', 'from', 'to', 'limit', 'after'], handler: events },
  { method: 'GET', path: '/api/events/stream', access: 'signed_in', permission: 'view_alerts', query: ['camera', 'type', 'label', 'zone'], handler: eventStream },
  { method: 'GET', path: '/api/events/{event}/snapshot.jpg', access: 'signed_in', permission: 'view_alerts', handler: snapshot },
  { method: 'GET', path: '/api/cameras/{camera}/live.jpg', access: 'signed_in', permission: 'live_view_blurred', handler: liveJpg },
  { method: 'GET', path: '/api/cameras/{camera}/live.mjpeg', access: 'signed_in', permission: 'live_view_blurred', handler: liveMjpeg },
  { method: 'GET', path: '/api/cameras/{camera}/recordings', access: 'signed_in', permission: 'playback', query: ['from', 'to'], handler: recordings },
  { method: 'GET', path: '/api/cameras/{camera}/clip.mp4', access: 'signed_in', permission: 'playback', query: ['from', 'to'], handler: (c) => clip(c, false) },
  { method: 'GET', path: '/api/cameras/{camera}/download.mp4', access: 'signed_in', permission: 'export', query: ['from', 'to'], handler: (c) => clip(c, true) },
  { method: 'GET', path: '/api/stats/counts', access: 'signed_in', permission: 'view_alerts', query: ['camera', 'type', 'from', 'to', 'bucket_s'], handler: counts },
  { method: 'GET', path: '/api/users', access: 'signed_in', permission: 'manage_users', handler: listUsers },
  { method: 'POST', path: '/api/users', access: 'signed_in', permission: 'manage_users', json: true, handler: createUser },
  { method: 'POST', path: '/api/users/{username}/disable', access: 'signed_in', permission: 'manage_users', handler: (c) => setDisabled(c, true) },
  { method: 'POST', path: '/api/users/{username}/enable', access: 'signed_in', permission: 'manage_users', handler: (c) => setDisabled(c, false) },
  { method: 'GET', path: '/api/openapi.json', access: 'anyone', permission: 'read_transparency', handler: openapi },
  { method: 'GET', path: '/public/register.json', access: 'anyone', permission: 'read_transparency', handler: register },
  { method: 'GET', path: '/public/ui.json', access: 'anyone', permission: 'read_transparency', handler: uiConfig },
];

/** PathMatches of docs/api.md: literal segments and {name} segments of [A-Za-z0-9_-]{1,64}. */
function matchPath(/** @type {string} */ pattern, /** @type {string} */ actual) {
  const p = pattern.split('/');
  const a = actual.split('/');
  if (p.length !== a.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < p.length; i += 1) {
    const seg = p[i] ?? '';
    const got = a[i] ?? '';
    const m = /^\{(\w+)\}(.*)$/.exec(seg);
    if (m) {
      const suffix = m[2] ?? '';
      if (!got.endsWith(suffix)) return null;
      const value = got.slice(0, got.length - suffix.length);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) return null;
      params[m[1] ?? ''] = value;
    } else if (seg !== got) return null;
  }
  return params;
}

function cookie(/** @type {http.IncomingMessage} */ req, /** @type {string} */ name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return '';
}
const clearCookie = 'custos_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict';

async function readBody(/** @type {http.IncomingMessage} */ req) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new HttpError(413, 'resource_exhausted', 'the request body is larger than 65536 bytes');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  if ((method === 'GET') && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/public/')) {
    serveUi(url.pathname, res);
    return;
  }
  /** @type {Route | null} */
  let route = null;
  /** @type {Record<string, string>} */
  let params = {};
  const allowed = [];
  for (const r of ROUTES) {
    const p = matchPath(r.path, url.pathname);
    if (!p) continue;
    allowed.push(r.method);
    if (r.method === method) {
      route = r;
      params = p;
    }
  }
  if (!route) {
    if (allowed.length === 0) throw new HttpError(404, 'not_found', 'no such endpoint; GET /api/openapi.json lists the API\'s endpoints');
    return sendError(res, new HttpError(405, 'invalid_argument', `${url.pathname} accepts only ${allowed.join(', ')}`), { Allow: allowed.join(', ') });
  }
  // Query parameters: only listed ones, each at most once, never empty.
  const accepted = route.query ?? [];
  /** @type {Record<string, string>} */
  const query = {};
  for (const [key, value] of url.searchParams) {
    const list = accepted.length ? accepted.join(', ') : 'none';
    if (!accepted.includes(key)) throw bad(`unknown query parameter '${key}'; this endpoint accepts: ${list}`);
    if (key in query) throw bad(`query parameter '${key}' is given twice`);
    if (value === '') throw bad(`query parameter '${key}' is empty; leave it out instead`);
    query[key] = value;
  }
  const text = await readBody(req);
  if (!route.json && text) throw bad(`${route.method} ${route.path} takes no request body`);
  /** @type {unknown} */
  let body = null;
  if (route.json) {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw bad("send JSON with 'Content-Type: application/json'");
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw bad(`the body is not JSON: ${String(error)}`);
    }
  }
  /** @type {Caller} */
  let caller = null;
  if (route.access === 'signed_in') {
    const token = cookie(req, 'custos_session');
    const session = token ? SESSIONS.get(token) : undefined;
    const user = session ? USERS.get(session.username) : undefined;
    if (!session || !user || user.disabled || session.expires_ms < Date.now()) {
      if (token) SESSIONS.delete(token);
      throw Object.assign(new HttpError(401, 'unauthenticated', token ? 'the session has ended; log in again' : "log in first: POST /api/login, or send 'Authorization: Bearer <API token>'"), { clear: Boolean(token) });
    }
    caller = { user, session: token, csrf: session.csrf };
    if (!(ROLE_PERMISSIONS[user.role] ?? []).includes(route.permission)) {
      throw new HttpError(403, 'permission_denied', `the ${user.role} role may not ${PERMISSION_TEXT[route.permission] ?? route.permission}`);
    }
    if (route.method === 'POST') {
      const sent = Buffer.from(String(req.headers['x-csrf-token'] ?? ''));
      const want = Buffer.from(session.csrf);
      if (sent.length !== want.length || !timingSafeEqual(sent, want)) {
        throw new HttpError(403, 'permission_denied', 'missing or wrong X-CSRF-Token header; send the csrf_token from POST /api/login or GET /api/me');
      }
    }
  }
  await route.handler({ req, res, url, params, query, body, caller });
}

// ---------------------------------------------------------------------------------------------
// Handlers.
/** @param {unknown} body @param {string[]} keys */
function jsonObject(body, keys) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object');
  const o = /** @type {Record<string, unknown>} */ (body);
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`unknown key '${k}'; expected ${keys.join(', ')}`);
  /** @type {Record<string, string>} */
  const out = {};
  for (const k of keys) {
    if (typeof o[k] !== 'string') throw bad(o[k] === undefined ? `the body needs '${k}'` : `'${k}' must be a string`);
    out[k] = /** @type {string} */ (o[k]);
  }
  return out;
}

function login(/** @type {Ctx} */ { res, body }) {
  const { username, password } = jsonObject(body, ['username', 'password']);
  const user = USERS.get(username.toLowerCase());
  if (!user || user.disabled || user.password !== password) {
    throw new HttpError(401, 'unauthenticated', 'wrong username or password, or the account is disabled');
  }
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const expires_ms = Date.now() + SESSION_MS;
  SESSIONS.set(token, { username: user.username, csrf, expires_ms });
  sendJson(res, 200, { user: user.username, role: user.role, csrf_token: csrf, expires_ms }, {
    'Set-Cookie': `custos_session=${token}; Path=/; Max-Age=${SESSION_MS / 1000}; HttpOnly; SameSite=Strict`,
  });
}

function logout(/** @type {Ctx} */ { res, caller }) {
  if (caller) SESSIONS.delete(caller.session);
  sendJson(res, 200, { logged_out: true }, { 'Set-Cookie': clearCookie });
}

function me(/** @type {Ctx} */ { res, caller }) {
  if (!caller) throw new HttpError(401, 'unauthenticated', 'log in first');
  sendJson(res, 200, { user: caller.user.username, role: caller.user.role, kind: 'session', permissions: ROLE_PERMISSIONS[caller.user.role] ?? [], csrf_token: caller.csrf });
}

function cameras(/** @type {Ctx} */ { res, caller }) {
  const manager = caller ? (ROLE_PERMISSIONS[caller.user.role] ?? []).includes('manage_cameras') : false;
  sendJson(res, 200, {
    cameras: CAMERAS.map((c) => ({ id: c.id, name: c.name, enabled: c.enabled, location: c.location, ...(manager ? { url: c.url, rtsp_transport: c.rtsp_transport } : {}) })),
  });
}

function camera(/** @type {Record<string, string>} */ params) {
  const c = cameraById.get(params['camera'] ?? '');
  if (!c) throw new HttpError(404, 'not_found', `no camera '${params['camera']}'`);
  return c;
}

/** An integer query parameter (UTC ms and the like), or the default. */
function intParam(/** @type {Record<string, string>} */ q, /** @type {string} */ key, /** @type {number} */ fallback) {
  const v = q[key];
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw bad(`'${key}' must be an integer`);
  return Number(v);
}

function events(/** @type {Ctx} */ { res, query }) {
  if (query['type'] && !['track_start', 'track_end', 'zone_enter', 'zone_leave', 'line_cross', 'loiter'].includes(query['type'])) {
    throw bad(`'type' must be one of track_start track_end zone_enter zone_leave line_cross loiter`);
  }
  const limit = intParam(query, 'limit', 100);
  if (limit < 1 || limit > 1000) throw bad("'limit' must be from 1 to 1000");
  intParam(query, 'from', 0);
  intParam(query, 'to', 0);
  const after = query['after'];
  if (after !== undefined && !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(after)) throw bad("'after' must be a ULID");
  const found = [];
  for (const e of EVENTS) {
    if (after && e.id <= after) continue;
    if (!matches(e, query)) continue;
    found.push(e);
    if (found.length > limit) break;
  }
  const more = found.length > limit;
  const page = found.slice(0, limit);
  sendJson(res, 200, { events: page, next_after: more ? (page[page.length - 1]?.id ?? null) : null });
}

function eventStream(/** @type {Ctx} */ { req, res, query }) {
  if (streams.size >= MAX_EVENT_STREAMS) throw new HttpError(503, 'unavailable', 'too many event streams are open on this server; close one or retry later');
  res.writeHead(200, { ...API_HEADERS, 'Content-Type': 'text/event-stream', 'X-Accel-Buffering': 'no' });
  res.write('retry: 3000\n: connected\n\n');
  const entry = { res, filter: query };
  streams.add(entry);
  req.on('close', () => streams.delete(entry));
}

function frameNow() {
  return media.frames[Math.floor(Date.now() / 200) % media.frames.length] ?? Buffer.alloc(0);
}

function sendBytes(/** @type {http.ServerResponse} */ res, /** @type {string} */ type, /** @type {Buffer} */ data) {
  res.writeHead(200, { ...API_HEADERS, 'Content-Type': type, 'Content-Length': data.length });
  res.end(data);
}

function snapshot(/** @type {Ctx} */ { res, params }) {
  const id = params['event'] ?? '';
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) throw bad('the event id must be a 26-character ULID');
  const e = EVENTS.find((x) => x.id === id);
  if (!e) throw new HttpError(404, 'not_found', `no event '${id}'`);
  if (!e.snapshot) throw new HttpError(404, 'not_found', `event '${id}' has no snapshot`);
  sendBytes(res, 'image/jpeg', media.frames[e.track_id % media.frames.length] ?? Buffer.alloc(0));
}

function liveCheck(/** @type {MockCamera} */ c) {
  if (!c.connected) {
    throw new HttpError(503, 'unavailable', `camera '${c.id}' has delivered no frame since ${new Date(c.disconnected_ms ?? START_MS).toISOString()}`);
  }
}

function liveJpg(/** @type {Ctx} */ { res, params }) {
  const c = camera(params);
  liveCheck(c);
  sendBytes(res, 'image/jpeg', frameNow());
}

let liveStreams = 0;
const MAX_LIVE_STREAMS = 16;
function liveMjpeg(/** @type {Ctx} */ { req, res, params }) {
  const c = camera(params);
  liveCheck(c);
  if (liveStreams >= MAX_LIVE_STREAMS) throw new HttpError(503, 'unavailable', `too many live streams are open (${MAX_LIVE_STREAMS}); close one or retry later`);
  liveStreams += 1;
  res.writeHead(200, { ...API_HEADERS, 'Content-Type': 'multipart/x-mixed-replace; boundary=custosframe' });
  const send = () => {
    const jpeg = frameNow();
    res.write(`--custosframe\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
    res.write(jpeg);
    res.write('\r\n');
  };
  send();
  const timer = setInterval(send, 200);
  req.on('close', () => {
    clearInterval(timer);
    liveStreams -= 1;
  });
}

function range(/** @type {Record<string, string>} */ q, /** @type {number} */ defaultSpan, /** @type {number} */ maxSpan, /** @type {string} */ maxText) {
  const now = Date.now();
  const to = intParam(q, 'to', now);
  const from = intParam(q, 'from', to - defaultSpan);
  if (from >= to) throw bad("'from' must be before 'to'");
  if (to - from > maxSpan) throw bad(`the range is ${Math.round((to - from) / 1000)} s; at most ${maxText}`);
  return { from, to };
}

function recordings(/** @type {Ctx} */ { res, params, query }) {
  const c = camera(params);
  const { from, to } = range(query, 3600_000, 7 * 24 * 3600_000, '7 days');
  const segments = segmentsOf(c, from, to);
  sendJson(res, 200, { camera: c.id, from_ms: from, to_ms: to, spans: spansOf(segments), segments });
}

function clip(/** @type {Ctx} */ { req, res, params, query }, /** @type {boolean} */ attachment) {
  const c = camera(params);
  if (query['from'] === undefined || query['to'] === undefined) throw bad("give 'from' and 'to' (UTC ms)");
  const { from, to } = range(query, 0, 3600_000, '1 hour');
  if (segmentsOf(c, from, to).length === 0) throw new HttpError(404, 'not_found', `camera '${c.id}' recorded nothing between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
  // The mock plays one fixed 60 s clip for any range that has recordings.
  const data = media.clip;
  /** @type {Record<string, string | number>} */
  const headers = { ...API_HEADERS, 'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes' };
  if (attachment) {
    headers['Content-Disposition'] = `attachment; filename="custos-${c.id}-${from}.mp4"`;
    headers['X-Custos-SHA256'] = createHash('sha256').update(data).digest('hex');
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
  if (m && (m[1] || m[2])) {
    let start = m[1] ? Number(m[1]) : data.length - Number(m[2]);
    let end = m[1] && m[2] ? Number(m[2]) : data.length - 1;
    end = Math.min(end, data.length - 1);
    start = Math.max(0, start);
    if (start > end || start >= data.length) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${data.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${data.length}`, 'Content-Length': end - start + 1 });
    res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': data.length });
  res.end(req.method === 'HEAD' ? undefined : data);
}

function counts(/** @type {Ctx} */ { res, query }) {
  const type = query['type'] ?? 'track_start';
  const bucket_s = intParam(query, 'bucket_s', 3600);
  if (bucket_s < 60 || bucket_s > 86400) throw bad("'bucket_s' must be an integer from 60 to 86400");
  const { from, to } = range(query, 24 * 3600_000, 366 * 24 * 3600_000, '366 days');
  const bucket_ms = bucket_s * 1000;
  const first = Math.floor(from / bucket_ms) * bucket_ms;
  const n = Math.ceil((to - first) / bucket_ms);
  if (n > 1000) throw bad(`that is ${n} buckets; at most 1000: choose a larger bucket_s or a shorter range`);
  const buckets = Array.from({ length: n }, (_, i) => ({ start_ms: first + i * bucket_ms, counts: /** @type {Record<string, number>} */ ({}) }));
  const labels = new Set();
  for (const e of EVENTS) {
    if (e.type !== type || e.time_ms < from || e.time_ms >= to) continue;
    if (query['camera'] && e.camera !== query['camera']) continue;
    const b = buckets[Math.floor((e.time_ms - first) / bucket_ms)];
    if (!b) continue;
    b.counts[e.label] = (b.counts[e.label] ?? 0) + 1;
    labels.add(e.label);
  }
  sendJson(res, 200, { type, bucket_ms, from_ms: from, to_ms: to, labels: [...labels].sort(), buckets });
}

const userJson = (/** @type {MockUser} */ u) => ({ username: u.username, role: u.role, disabled: u.disabled, created_ms: u.created_ms });
function listUsers(/** @type {Ctx} */ { res }) {
  sendJson(res, 200, { users: [...USERS.values()].map(userJson) });
}
function createUser(/** @type {Ctx} */ { res, body }) {
  const { username, password, role } = jsonObject(body, ['username', 'password', 'role']);
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username)) throw bad('usernames are 3 to 64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or a digit');
  if (!(role in ROLE_PERMISSIONS)) throw bad(`unknown role '${role}'; one of ${Object.keys(ROLE_PERMISSIONS).join(', ')}`);
  if ([...password].length < 12) throw bad('the password needs at least 12 characters');
  if (password.toLowerCase() === username.toLowerCase()) throw bad('the password must not be the username');
  if (USERS.has(username)) throw new HttpError(409, 'already_exists', `user '${username}' already exists`);
  addUser(username, password, role);
  sendJson(res, 201, userJson(/** @type {MockUser} */ (USERS.get(username))));
}
function setDisabled(/** @type {Ctx} */ { res, params, caller }, /** @type {boolean} */ disabled) {
  const user = USERS.get(params['username'] ?? '');
  if (!user) throw new HttpError(404, 'not_found', `no user '${params['username']}'`);
  if (disabled && caller && caller.user.username === user.username) throw new HttpError(400, 'failed_precondition', 'an administrator cannot disable themself');
  user.disabled = disabled;
  if (disabled) for (const [token, s] of SESSIONS) if (s.username === user.username) SESSIONS.delete(token);
  sendJson(res, 200, { username: user.username, disabled });
}

function openapi(/** @type {Ctx} */ { res }) {
  const file = path.join(HERE, '..', '..', 'src', 'api', 'openapi.json');
  if (!fs.existsSync(file)) throw new HttpError(503, 'unavailable', 'openapi.json not found beside the mock');
  sendBytes(res, 'application/json', fs.readFileSync(file));
}
function register(/** @type {Ctx} */ { res }) {
  sendJson(res, 200, {
    operator: 'Mock city',
    generated_ms: Date.now(),
    cameras: CAMERAS.map((c) => ({ id: c.id, name: c.name, enabled: c.enabled, location: c.location, capabilities: { object_detection: true, zones: true, counting_lines: c.id === 'entrance', loitering_alerts: true, face_recognition: false, plate_recognition: false } })),
  });
}
function uiConfig(/** @type {Ctx} */ { res }) {
  sendJson(res, 200, { site_name: 'Custos (mock)', map: { tile_url: TILE_URL, attribution: ATTRIBUTION, center: [52.5206, 13.4094], zoom: 16 } });
}

const TYPES_BY_EXT = /** @type {Record<string, string>} */ ({
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.map': 'application/json', '.json': 'application/json', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
});
function serveUi(/** @type {string} */ urlPath, /** @type {http.ServerResponse} */ res) {
  const last = urlPath.slice(urlPath.lastIndexOf('/') + 1);
  const plain = urlPath.length < 256 && urlPath.slice(1).split('/').every((p) => p !== '' && !p.startsWith('.') && !p.includes('\\'));
  let file = path.join(DIST, 'index.html');
  if (urlPath !== '/' && last.includes('.')) {
    if (!plain) return sendError(res, new HttpError(404, 'not_found', 'no such file'));
    file = path.join(DIST, ...urlPath.slice(1).split('/'));
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return sendError(res, new HttpError(404, 'not_found', path.basename(file) === 'index.html' ? 'the web UI is not built; run npm run build in web/' : 'no such file'));
  }
  const data = fs.readFileSync(file);
  /** @type {Record<string, string | number>} */
  const headers = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY', 'Content-Security-Policy': UI_CSP, 'Content-Type': TYPES_BY_EXT[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': data.length };
  headers['Cache-Control'] = urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store';
  res.writeHead(200, headers);
  res.end(data);
}

// ---------------------------------------------------------------------------------------------
const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) {
      sendError(res, error, /** @type {{clear?: boolean}} */ (error).clear ? { 'Set-Cookie': clearCookie } : {});
      return;
    }
    console.error('mock-server: handler failed:', error);
    sendError(res, new HttpError(500, 'internal', 'internal error; see the server log'));
  });
});
server.on('error', (error) => {
  console.error(`mock-server: cannot listen on 127.0.0.1:${PORT}: ${error.message}`);
  process.exit(1);
});
server.listen(PORT, '127.0.0.1', () => {
  writeCredentials();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : PORT;
  console.log(`Custos is running at http://127.0.0.1:${port}/`);
  console.log(`Credentials: ${CREDENTIALS_FILE}`);
  if (!fs.existsSync(path.join(DIST, 'index.html'))) console.log(`(no UI build in ${DIST}: run npm run build, or use npm run dev)`);
});
const shutdown = () => {
  clearInterval(eventTimer);
  clearInterval(heartbeatTimer);
  for (const s of streams) s.res.end();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
