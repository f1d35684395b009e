#!/usr/bin/env node
// @ts-check
// A stand-in for `custos demo` to develop and test the web UI without the C++ server. It keeps
// to docs/api.md: the same routes, JSON shapes, error form ({"error": {code, message}}), status
// codes, permission table (docs/auth.md), CSRF check, SSE format, multipart MJPEG and MP4 with
// byte ranges. Fake data: three cameras (one of them disconnected), a day of past events, a new
// event every few seconds, recordings that started two hours before the mock did.
//
// usage: node dev/mock-server.mjs [--port 8787] [--data-dir DIR] [--tile-url URL]
//        [--attribution TEXT] [--dist DIR] [--event-interval-ms 4000] [--checkpoint-after-ms 0]
//        [--plate-hit-interval-ms 30000]
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
// The first audit checkpoint is signed this long after start (0: at start); then every minute.
const CHECKPOINT_AFTER_MS = Number(args['checkpoint-after-ms'] ?? 0);
// A hotlisted plate is read on the ring road (a hit, published as plate_hit) this often.
const PLATE_HIT_INTERVAL_MS = Number(args['plate-hit-interval-ms'] ?? 30_000);
const START_MS = Date.now();

// ---------------------------------------------------------------------------------------------
// Roles and permissions: docs/auth.md, permission table.
const VIEWER = ['read_transparency', 'live_view_blurred'];
const OPERATOR = [...VIEWER, 'view_alerts', 'acknowledge_alerts'];
const INVESTIGATOR = [...OPERATOR, 'search_events', 'playback', 'plate_query', 'export', 'propose_watchlist', 'read_policies'];
/** @type {Record<string, string[]>} */
const ROLE_PERMISSIONS = {
  viewer: VIEWER,
  operator: OPERATOR,
  investigator: INVESTIGATOR,
  supervisor: [...INVESTIGATOR, 'approve_watchlist', 'approve_unblurred_export', 'evidence_hold'],
  auditor: ['read_transparency', 'read_audit', 'read_statistics', 'read_config', 'read_policies'],
  admin: ['read_transparency', 'read_config', 'manage_cameras', 'manage_users', 'manage_policies', 'read_policies'],
};
/** @type {Record<string, string>} */
const PERMISSION_TEXT = {
  live_view_blurred: 'watch live video',
  view_alerts: 'view alerts',
  acknowledge_alerts: 'acknowledge alerts',
  plate_query: 'query plate reads',
  search_events: 'search events',
  playback: 'play back recorded video',
  export: 'export video',
  manage_users: 'manage users',
  manage_cameras: 'manage cameras',
  read_policies: 'read policy records (legal bases, authorisations, approvals)',
  manage_policies: 'manage policies (legal bases, face-recognition authorisations, protected assemblies)',
  propose_watchlist: 'propose watchlist entries',
  approve_watchlist: 'approve watchlist entries',
  approve_unblurred_export: 'approve unblurred exports',
  evidence_hold: 'place or release evidence holds',
  read_audit: 'read the audit log',
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
  { id: 'ringroad', name: 'Ring road east', enabled: true, location: { lat: 52.52255, lon: 13.41402 }, url: 'rtsp://10.0.0.31:554/traffic', rtsp_transport: 'tcp', connected: true, disconnected_ms: null },
];
/** Zones and counting lines per camera (the register's capabilities; docs/zones.md). */
const ANALYTICS = /** @type {Record<string, {zones: string[], lines: string[]}>} */ ({
  entrance: { zones: ['doorway'], lines: ['gate'] },
  parking: { zones: ['bays'], lines: [] },
  platform: { zones: ['doorway'], lines: [] },
  ringroad: { zones: ['eastbound lane 1', 'eastbound lane 2', 'westbound lane 1', 'hard shoulder east'], lines: ['main', 'ramp'] },
});
/** Cameras that read plates (ring road, car park). */
const PLATE_CAMERAS = ['ringroad', 'parking'];
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
  const plates = { crops_offered: 8 * PLATE_READS.length + 3, crops_dropped: 3, crops_read: 8 * PLATE_READS.length, reads_stored: PLATE_READS.length, hits: HITS.size, errors: 0, last_error: '' };
  return { status: cameras.every((c) => c.connected) ? 'ok' : 'degraded', time_ms: now, cameras, disks: [{ name: 'recordings', total_bytes: 500e9, free_bytes: 312e9 }], plates };
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
/** The types GET /api/events and /api/stats/counts accept (the event store's). */
const STORED_TYPES = ['track_start', 'track_end', 'zone_enter', 'zone_leave', 'line_cross', 'loiter', 'wrong_way', 'stopped_vehicle'];
// The ring road: vehicles only; now and then a wrong-way driver or a vehicle stopped on the
// hard shoulder (docs/traffic.md). Speeds are advisory (speed_advisory: true).
const VEHICLES = ['car', 'car', 'car', 'car', 'truck', 'bus', 'motorcycle'];
const VEHICLE_TYPES = ['track_start', 'line_cross', 'line_cross', 'line_cross', 'track_end'];
const LANES = ['eastbound lane 1', 'eastbound lane 2', 'westbound lane 1'];
const STOP_ZONES = ['hard shoulder east'];
/** @typedef {{ id: string, camera: string, time_ms: number, time: string, type: string, label: string, track_id: number, score: number, box: number[], zone?: string, direction?: string, dwell_ms?: number, snapshot?: string, speed_kmh?: number, speed_advisory?: boolean }} MockEvent */
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
  if (camera === 'ringroad') trafficEvent(e);
  if (e.type !== 'track_end' && (Math.random() < 0.7 || e.type === 'wrong_way' || e.type === 'stopped_vehicle')) e.snapshot = `snapshots/${camera}/${id}.jpg`;
  // Keys in alphabetical order, as EventToJson writes them.
  return /** @type {MockEvent} */ (Object.fromEntries(Object.entries(e).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Turns `e` into a vehicle event of the ring road. @param {MockEvent} e */
function trafficEvent(e) {
  const r = Math.random();
  e.type = r < 0.03 ? 'wrong_way' : r < 0.06 ? 'stopped_vehicle' : pick(VEHICLE_TYPES);
  e.label = pick(VEHICLES);
  delete e.zone;
  delete e.direction;
  delete e.dwell_ms;
  const speed = () => Math.round((e.label === 'truck' || e.label === 'bus' ? 38 : 46) + Math.random() * 22);
  if (e.type === 'line_cross') {
    e.zone = Math.random() < 0.8 ? 'main' : 'ramp';
    e.direction = e.zone === 'ramp' ? 'onto ring' : pick(['eastbound', 'westbound']);
  }
  if (e.type === 'wrong_way') e.zone = pick(LANES);
  if (e.type === 'stopped_vehicle') {
    e.zone = pick(STOP_ZONES);
    e.dwell_ms = Math.round(60_000 + Math.random() * 540_000);
  }
  if (e.type === 'track_end') e.dwell_ms = Math.round(2000 + Math.random() * 8000);
  if (['line_cross', 'wrong_way', 'track_end'].includes(e.type) && Math.random() < 0.9) {
    e.speed_kmh = speed();
    e.speed_advisory = true;
  }
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
  broadcast(e);
}
/** Sends an event to the open streams only (face_match and plate_hit are not stored events). */
function broadcast(/** @type {MockEvent} */ e) {
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
  { method: 'GET', path: '/api/cameras/{camera}/clip.mp4', access: 'signed_in', permission: 'playback', query: ['from', 'to', 'legal_basis'], handler: (c) => clip(c, false) },
  { method: 'GET', path: '/api/cameras/{camera}/download.mp4', access: 'signed_in', permission: 'export', query: ['from', 'to', 'legal_basis', 'case', 'unblurred', 'approval'], handler: (c) => clip(c, true) },
  { method: 'GET', path: '/api/stats/counts', access: 'signed_in', permission: 'view_alerts', query: ['camera', 'type', 'from', 'to', 'bucket_s'], handler: counts },
  { method: 'GET', path: '/api/users', access: 'signed_in', permission: 'manage_users', handler: listUsers },
  { method: 'POST', path: '/api/users', access: 'signed_in', permission: 'manage_users', json: true, handler: createUser },
  { method: 'POST', path: '/api/users/{username}/disable', access: 'signed_in', permission: 'manage_users', handler: (c) => setDisabled(c, true) },
  { method: 'POST', path: '/api/users/{username}/enable', access: 'signed_in', permission: 'manage_users', handler: (c) => setDisabled(c, false) },
  { method: 'GET', path: '/api/openapi.json', access: 'anyone', permission: 'read_transparency', handler: openapi },
  { method: 'GET', path: '/public/register.json', access: 'anyone', permission: 'read_transparency', handler: register },
  { method: 'GET', path: '/public/register.csv', access: 'anyone', permission: 'read_transparency', handler: registerCsv },
  { method: 'GET', path: '/public/stats.json', access: 'anyone', permission: 'read_transparency', handler: publicStats },
  { method: 'GET', path: '/public/checkpoint', access: 'anyone', permission: 'read_transparency', handler: publicCheckpoint },
  { method: 'GET', path: '/public/audit/consistency', access: 'anyone', permission: 'read_transparency', query: ['from', 'to'], handler: consistency },
  { method: 'GET', path: '/api/policy', access: 'signed_in', permission: 'read_policies', handler: policyRecords },
  { method: 'POST', path: '/api/legal-bases', access: 'signed_in', permission: 'manage_policies', json: true, handler: addLegalBasis },
  { method: 'POST', path: '/api/legal-bases/revoke', access: 'signed_in', permission: 'manage_policies', json: true, handler: revokeLegalBasis },
  { method: 'POST', path: '/api/face-authorisations', access: 'signed_in', permission: 'manage_policies', json: true, handler: addFaceAuthorisation },
  { method: 'POST', path: '/api/face-authorisations/{id}/revoke', access: 'signed_in', permission: 'manage_policies', json: true, handler: (c) => revokeRecord(c, FACE_AUTHS, 'face-recognition authorisation', 'face_authorisation.revoke') },
  { method: 'POST', path: '/api/assemblies', access: 'signed_in', permission: 'manage_policies', json: true, handler: addAssembly },
  { method: 'POST', path: '/api/assemblies/{id}/revoke', access: 'signed_in', permission: 'manage_policies', json: true, handler: (c) => revokeRecord(c, ASSEMBLIES, 'protected assembly', 'assembly.revoke') },
  { method: 'POST', path: '/api/approvals', access: 'signed_in', permission: 'read_policies', json: true, handler: requestApproval },
  { method: 'POST', path: '/api/approvals/{id}/approve', access: 'signed_in', permission: 'read_policies', handler: (c) => decide(c, true) },
  { method: 'POST', path: '/api/approvals/{id}/reject', access: 'signed_in', permission: 'read_policies', json: true, handler: (c) => decide(c, false) },
  { method: 'POST', path: '/api/holds', access: 'signed_in', permission: 'playback', json: true, handler: placeHold },
  { method: 'POST', path: '/api/holds/{id}/release', access: 'signed_in', permission: 'evidence_hold', json: true, handler: releaseHold },
  { method: 'GET', path: '/api/audit/entries', access: 'signed_in', permission: 'read_audit', query: ['from', 'limit'], handler: auditEntries },
  { method: 'GET', path: '/api/audit/proof', access: 'signed_in', permission: 'read_audit', query: ['index', 'size'], handler: auditProof },
  { method: 'GET', path: '/public/ui.json', access: 'anyone', permission: 'read_transparency', handler: uiConfig },
  { method: 'GET', path: '/api/plates/reads', access: 'signed_in', permission: 'plate_query', query: ['case', 'legal_basis', 'plate', 'camera', 'from', 'to', 'max_confusions', 'limit'], handler: plateReads },
  { method: 'GET', path: '/api/plates/reads/{id}/crop.jpg', access: 'signed_in', permission: 'plate_query', query: ['case', 'legal_basis'], handler: plateReadCrop },
  { method: 'GET', path: '/api/plates/hotlist', access: 'signed_in', permission: 'plate_query', handler: listHotlist },
  { method: 'POST', path: '/api/plates/hotlist', access: 'signed_in', permission: 'plate_query', json: true, handler: proposeHotlist },
  { method: 'POST', path: '/api/plates/hotlist/{id}/approve', access: 'signed_in', permission: 'approve_watchlist', json: true, handler: (c) => decideHotlist(c, true) },
  { method: 'POST', path: '/api/plates/hotlist/{id}/reject', access: 'signed_in', permission: 'approve_watchlist', json: true, handler: (c) => decideHotlist(c, false) },
  { method: 'POST', path: '/api/plates/hotlist/{id}/withdraw', access: 'signed_in', permission: 'plate_query', json: true, handler: withdrawHotlist },
  { method: 'GET', path: '/api/plates/hits', access: 'signed_in', permission: 'view_alerts', query: ['from', 'to', 'camera', 'status'], handler: listHits },
  { method: 'GET', path: '/api/plates/hits/{id}/crop.jpg', access: 'signed_in', permission: 'view_alerts', handler: hitCrop },
  { method: 'POST', path: '/api/plates/hits/{id}/confirm', access: 'signed_in', permission: 'acknowledge_alerts', json: true, handler: (c) => decideHit(c, true) },
  { method: 'POST', path: '/api/plates/hits/{id}/reject', access: 'signed_in', permission: 'acknowledge_alerts', json: true, handler: (c) => decideHit(c, false) },
  { method: 'GET', path: '/api/traffic/counts', access: 'signed_in', permission: 'view_alerts', query: ['camera', 'line', 'from', 'to', 'bucket_s'], handler: trafficCounts },
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
      audit({ actor: user.username, role: user.role, action: url.pathname.slice(5).replace(/\//g, '.'), result: 'denied' });
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
    audit({ actor: username.toLowerCase(), role: 'public', action: 'login_failed', result: 'bad_credentials' });
    throw new HttpError(401, 'unauthenticated', 'wrong username or password, or the account is disabled');
  }
  audit({ actor: user.username, role: user.role, action: 'login', result: 'ok' });
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
  if (query['type'] && !STORED_TYPES.includes(query['type'])) throw bad(`'type' must be one of ${STORED_TYPES.join(' ')}`);
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
  if (attachment && !query['case']) throw bad("an export needs 'case': the case it is for (1..200 characters), recorded in the audit log");
  if (attachment && query['unblurred']) throw refused('the mock server does not make unblurred exports');
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
// ---------------------------------------------------------------------------------------------
// Audit log (docs/audit.md): entries in memory, a fake signed checkpoint every minute. The
// hashes and signatures are stand-ins (random bytes), not RFC 6962 / Ed25519: the mock shows
// shapes, not cryptography.
/** @type {string[]} canonical JSON of each entry */
const AUDIT = [];
/** @type {Map<number, string>} size -> signed note */
const CHECKPOINTS = new Map();
const LOG_ORIGIN = `custos.audit/${randomBytes(8).toString('hex')}`;
const KEY_ID = randomBytes(4).toString('hex');
const VERIFIER_KEY = `${LOG_ORIGIN}+${KEY_ID}+${Buffer.concat([Buffer.from([1]), randomBytes(32)]).toString('base64')}`;

/** @param {{actor: string, role: string, action: string, object?: string, legal_basis?: string, purpose?: string, result: string, client?: string, details?: unknown, time_ms?: number}} e */
function audit(e) {
  /** @type {Record<string, unknown>} */
  const entry = {
    action: e.action,
    actor: e.actor,
    client: e.client ?? '127.0.0.1',
    legal_basis: e.legal_basis ?? '',
    object: e.object ?? '',
    purpose: e.purpose ?? '',
    result: e.result,
    role: e.role,
    time: new Date(e.time_ms ?? Date.now()).toISOString(),
    v: 1,
  };
  if (e.details !== undefined) entry['details'] = e.details;
  AUDIT.push(JSON.stringify(Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1)))));
  return AUDIT.length - 1;
}
function signCheckpoint() {
  const size = AUDIT.length;
  if (CHECKPOINTS.has(size) && CHECKPOINTS.size > 0) return;
  const root = createHash('sha256').update(AUDIT.join('\n')).digest('base64');
  const signature = Buffer.concat([Buffer.from(KEY_ID, 'hex'), randomBytes(64)]).toString('base64');
  CHECKPOINTS.set(size, `${LOG_ORIGIN}\n${size}\n${root}\n\n\u2014 ${LOG_ORIGIN} ${signature}\n`);
}
const latestCheckpointSize = () => (CHECKPOINTS.size ? Math.max(...CHECKPOINTS.keys()) : null);
// A little history, so the statistics have more than this month.
for (const [monthsAgo, action, count] of /** @type {[number, string, number][]} */ ([[2, 'search', 14], [2, 'login', 20], [1, 'search', 31], [1, 'plate_query', 4], [1, 'login', 35], [1, 'export', 2], [1, 'approval.request', 2], [1, 'approval.approve', 1]])) {
  const d = new Date(START_MS);
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - monthsAgo);
  for (let i = 0; i < count; i += 1) audit({ actor: 'investigator', role: 'investigator', action, result: 'ok', time_ms: d.getTime() + i * 3600_000 });
}
let checkpointTimer = /** @type {NodeJS.Timeout | null} */ (null);
const firstCheckpoint = setTimeout(() => {
  signCheckpoint();
  checkpointTimer = setInterval(signCheckpoint, 60_000);
}, CHECKPOINT_AFTER_MS);

// ---------------------------------------------------------------------------------------------
// Policy records (docs/policy.md; shapes of src/policy/policy_json.cc).
const DAY = 24 * 3600_000;
const LEGAL_BASIS_TYPES = ['court_order', 'statute', 'case', 'consent', 'administrative_order'];
const ACTS = ['watchlist_entry', 'plate_query', 'unblurred_export', 'old_playback', 'unpublished_camera', 'evidence_hold', 'face_recognition', 'plate_hotlist'];
const ACT_TEXT = /** @type {Record<string, string>} */ ({
  watchlist_entry: 'enrolling a person on a watchlist', plate_query: 'querying plate reads', unblurred_export: 'exporting unblurred video',
  old_playback: 'playing back recordings older than 24 hours', unpublished_camera: 'starting a camera that is not in the public register',
  evidence_hold: 'placing an evidence hold', face_recognition: 'face recognition', plate_hotlist: 'putting a plate on a hotlist',
});
const APPROVAL_KINDS = /** @type {Record<string, {act: string, request: string, decide: string}>} */ ({
  watchlist_entry: { act: 'watchlist_entry', request: 'propose_watchlist', decide: 'approve_watchlist' },
  unblurred_export: { act: 'unblurred_export', request: 'export', decide: 'approve_unblurred_export' },
  evidence_hold: { act: 'evidence_hold', request: 'playback', decide: 'evidence_hold' },
  face_authorisation: { act: 'face_recognition', request: 'manage_policies', decide: 'approve_watchlist' },
});
const FACE_PURPOSES = ['missing_person', 'threat_to_life', 'serious_crime', 'terrorism', 'wanted_person'];
const ASSEMBLY_KINDS = ['demonstration', 'worship', 'polling', 'other'];
const revocable = { created_ms: START_MS - 40 * DAY, created_by: 'admin', revoked_ms: 0, revoked_by: '', revoke_reason: '' };

/** @type {Map<string, any>} by reference */
const LEGAL_BASES = new Map();
/** @type {Map<string, any>} by id */
const FACE_AUTHS = new Map();
/** @type {Map<string, any>} */
const ASSEMBLIES = new Map();
/** @type {Map<string, any>} */
const APPROVALS = new Map();
/** @type {Map<string, any>} */
const HOLDS = new Map();
for (const b of [
  { reference: 'Transport Safety Act s. 12', type: 'statute', issuing_authority: 'Parliament', scope: { description: 'Safety of public transport stops', cameras: ['platform'], acts: ['old_playback', 'evidence_hold'] }, valid_from_ms: START_MS - 400 * DAY, expires_ms: START_MS + 600 * DAY, ...revocable },
  { reference: 'CO-2026/0412', type: 'court_order', issuing_authority: 'District court Mitte', scope: { description: 'Missing child, case 2026/77', cameras: [], acts: ['watchlist_entry', 'face_recognition'] }, valid_from_ms: START_MS - 3 * DAY, expires_ms: START_MS + 27 * DAY, ...revocable, created_ms: START_MS - 3 * DAY },
  { reference: 'PQ-2026/031', type: 'court_order', issuing_authority: 'District court Mitte', scope: { description: 'Vehicle thefts on the ring road, case 2026/118', cameras: [], acts: ['plate_query', 'plate_hotlist'] }, valid_from_ms: START_MS - 10 * DAY, expires_ms: START_MS + 50 * DAY, ...revocable, created_ms: START_MS - 10 * DAY },
  { reference: 'CASE-2025/991', type: 'case', issuing_authority: 'Police directorate 3', scope: { description: '', cameras: [], acts: ['plate_query'] }, valid_from_ms: START_MS - 200 * DAY, expires_ms: START_MS - 20 * DAY, ...revocable, created_ms: START_MS - 200 * DAY },
]) LEGAL_BASES.set(b.reference, b);
{
  const approval = { id: ulid(START_MS - 2 * DAY), kind: 'face_authorisation', object_id: 'missing-child-77', legal_basis_ref: 'CO-2026/0412', camera: '', reason: 'Search for a missing child near the station', requester: 'admin', requester_user_id: 1, created_ms: START_MS - 2 * DAY, expires_ms: START_MS + 5 * DAY, status: 'approved', decided_by: 'supervisor1', decided_ms: START_MS - 2 * DAY + 3600_000, decision_reason: '' };
  APPROVALS.set(approval.id, approval);
  const face = { id: ulid(START_MS - 2 * DAY + 2), name: 'Missing child 77', legal_basis_ref: 'CO-2026/0412', approval_id: approval.id, all_cameras: false, cameras: ['platform'], start_ms: START_MS - DAY, end_ms: START_MS + 6 * DAY, purpose: 'missing_person', issuing_authority: 'District court Mitte', expires_ms: START_MS + 6 * DAY, ...revocable, created_ms: START_MS - 2 * DAY + 7200_000 };
  FACE_AUTHS.set(face.id, face);
  const pending = { id: ulid(START_MS - 3600_000), kind: 'watchlist_entry', object_id: 'wl-0007', legal_basis_ref: 'CO-2026/0412', camera: '', reason: 'Enrol the missing child (photo from the parents)', requester: 'investigator', requester_user_id: 2, created_ms: START_MS - 3600_000, expires_ms: START_MS + 7 * DAY - 3600_000, status: 'pending', decided_by: '', decided_ms: 0, decision_reason: '' };
  APPROVALS.set(pending.id, pending);
  const assembly = { id: ulid(START_MS - DAY), name: 'Climate march', kind: 'demonstration', targets: [{ camera: 'entrance', zone: '' }], area: null, start_ms: START_MS + 2 * DAY, end_ms: START_MS + 2 * DAY + 5 * 3600_000, ...revocable, created_ms: START_MS - DAY };
  ASSEMBLIES.set(assembly.id, assembly);
}

const inForce = (/** @type {number} */ now, /** @type {number} */ start, /** @type {number} */ end, /** @type {number} */ revoked) => revoked === 0 && start <= now && now < end;
const refused = (/** @type {string} */ m) => new HttpError(403, 'permission_denied', m);
const fmt = (/** @type {number} */ ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const may = (/** @type {Caller} */ caller, /** @type {string} */ permission) => Boolean(caller && (ROLE_PERMISSIONS[caller.user.role] ?? []).includes(permission));
function who(/** @type {Caller} */ caller) {
  if (!caller) throw new HttpError(401, 'unauthenticated', 'log in first');
  return { actor: caller.user.username, role: caller.user.role };
}

/**
 * A request body as ParseRecord reads it: a JSON object whose keys are among `model`'s, with
 * values of the same kinds, laid over `model`.
 * @param {unknown} body @param {Record<string, unknown>} model @param {string} what
 * @returns {Record<string, any>}
 */
function record(body, model, what) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad(`the request body must be a JSON object: ${what}`);
  /** @type {Record<string, any>} */
  const merged = structuredClone(model);
  for (const [key, value] of Object.entries(body)) {
    if (!(key in model)) throw bad(`unknown key '${key}' in ${what}; accepted: ${Object.keys(model).join(', ')}`);
    const m = model[key];
    const kind = (/** @type {unknown} */ v) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
    if (!(kind(m) === kind(value) || (m === null && kind(value) === 'object'))) throw bad(`'${key}' of ${what} must be a ${m === null ? 'JSON object' : kind(m)}`);
    merged[key] = kind(m) === 'object' && m !== null ? { ...(/** @type {object} */ (m)), ...(/** @type {object} */ (value)) } : value;
  }
  return merged;
}
function need(/** @type {Record<string, any>} */ r, /** @type {string} */ key, /** @type {string} */ what) {
  if (typeof r[key] !== 'string' || r[key] === '') throw bad(`${what} needs '${key}' (a string)`);
  return /** @type {string} */ (r[key]);
}
function knownCamera(/** @type {string} */ id, /** @type {string} */ field) {
  if (!cameraById.has(id)) throw bad(`${field} '${id}' is not a configured camera; known cameras: ${CAMERAS.map((c) => `'${c.id}'`).join(', ')}`);
}

/** CheckLegalBasisLocked: why a legal basis does not allow `act` (on `camera`), or null. */
function legalBasisRefusal(/** @type {string} */ reference, /** @type {string} */ act, /** @type {string | null} */ camera, /** @type {number} */ now) {
  const actText = ACT_TEXT[act] ?? act;
  if (!reference) return `${actText} needs a legal basis: give the reference of the court order, case or other legal basis (an administrator registers it in Custos)`;
  const b = LEGAL_BASES.get(reference);
  if (!b) return `no legal basis with reference '${reference}' is registered; check the reference, or ask an administrator to register the legal basis first`;
  const name = `legal basis '${b.reference}'`;
  if (b.revoked_ms) return `${name} was revoked on ${fmt(b.revoked_ms)} by ${b.revoked_by} (${b.revoke_reason}); give a legal basis in force`;
  if (now < b.valid_from_ms) return `${name} is in force only from ${fmt(b.valid_from_ms)}; wait until then or give a legal basis in force now`;
  if (now >= b.expires_ms) return `${name} expired on ${fmt(b.expires_ms)}; have it renewed and registered again, or give another`;
  if (b.scope.acts.length && !b.scope.acts.includes(act)) return `${name} covers only ${b.scope.acts.map((/** @type {string} */ a) => ACT_TEXT[a]).join(', ')}, not ${actText}; give a legal basis that covers it`;
  if (b.scope.cameras.length && camera !== null) {
    if (camera === '') return `${name} covers only cameras ${b.scope.cameras.join(', ')}; limit the request to those cameras`;
    if (!b.scope.cameras.includes(camera)) return `${name} does not cover camera '${camera}' (it covers only ${b.scope.cameras.join(', ')}); give a legal basis that covers this camera`;
  }
  return null;
}

function faceRecognitionOn(/** @type {string} */ camera, /** @type {number} */ now) {
  for (const a of ASSEMBLIES.values()) {
    if (inForce(now, a.start_ms, a.end_ms, a.revoked_ms) && a.targets.some((/** @type {{camera: string}} */ t) => t.camera === camera)) return false;
  }
  for (const f of FACE_AUTHS.values()) {
    if (inForce(now, f.start_ms, Math.min(f.end_ms, f.expires_ms), f.revoked_ms) && (f.all_cameras || f.cameras.includes(camera))) return true;
  }
  return false;
}

function policyRecords(/** @type {Ctx} */ { res }) {
  const now = Date.now();
  sendJson(res, 200, {
    legal_bases: [...LEGAL_BASES.values()],
    face_authorisations: [...FACE_AUTHS.values()],
    assemblies: [...ASSEMBLIES.values()],
    approvals: [...APPROVALS.values()].map((a) => ({ ...a, status: a.status === 'pending' && now >= a.expires_ms ? 'expired' : a.status })),
    holds: [...HOLDS.values()],
  });
}

function addLegalBasis(/** @type {Ctx} */ { res, body, caller }) {
  const what = 'the legal basis';
  const r = record(body, { reference: '', type: '', issuing_authority: '', scope: { description: '', cameras: [], acts: [] }, valid_from_ms: 0, expires_ms: 0 }, what);
  need(r, 'reference', what);
  need(r, 'issuing_authority', what);
  if (!LEGAL_BASIS_TYPES.includes(r['type'])) throw bad(`${what} is not valid (unreadable type '${r['type']}'); docs/policy.md lists the fields`);
  for (const act of r['scope'].acts) if (!ACTS.includes(act)) throw bad(`${what} is not valid (unreadable act '${act}'); docs/policy.md lists the fields`);
  r['scope'].cameras.forEach((/** @type {string} */ c, /** @type {number} */ i) => knownCamera(c, `scope camera ${i + 1}`));
  if (!(r['expires_ms'] > r['valid_from_ms'])) throw bad(`${what} ends before it starts: give expires_ms after valid_from_ms`);
  const now = Date.now();
  if (r['expires_ms'] <= now) throw bad(`the legal basis expired on ${fmt(r['expires_ms'])}; an expired legal basis cannot be registered`);
  const old = LEGAL_BASES.get(r['reference']);
  if (old) throw new HttpError(409, 'already_exists', `a legal basis with reference '${old.reference}' was registered on ${fmt(old.created_ms)} by ${old.created_by}; references are unique, even after revocation. Use that one or give another reference`);
  /** @type {any} */
  const stored = { ...r, created_ms: now, created_by: who(caller).actor, revoked_ms: 0, revoked_by: '', revoke_reason: '' };
  LEGAL_BASES.set(stored.reference, stored);
  audit({ ...who(caller), action: 'legal_basis.add', object: stored.reference, legal_basis: stored.reference, result: 'ok' });
  sendJson(res, 201, stored);
}

function revokeLegalBasis(/** @type {Ctx} */ { res, body, caller }) {
  const r = record(body, { reference: '', reason: '' }, 'the revocation');
  const reference = need(r, 'reference', 'the revocation');
  const reason = need(r, 'reason', 'the revocation');
  const b = LEGAL_BASES.get(reference);
  if (!b) throw new HttpError(404, 'not_found', `no legal basis with reference '${reference}'`);
  if (b.revoked_ms) throw new HttpError(400, 'failed_precondition', `legal basis '${reference}' was already revoked on ${fmt(b.revoked_ms)}`);
  Object.assign(b, { revoked_ms: Date.now(), revoked_by: who(caller).actor, revoke_reason: reason });
  audit({ ...who(caller), action: 'legal_basis.revoke', object: reference, legal_basis: reference, purpose: reason, result: 'ok' });
  sendJson(res, 200, b);
}

function revokeRecord(/** @type {Ctx} */ { res, body, params, caller }, /** @type {Map<string, any>} */ map, /** @type {string} */ what, /** @type {string} */ action) {
  const reason = need(record(body, { reason: '' }, 'the revocation'), 'reason', 'the revocation');
  const id = params['id'] ?? '';
  const x = map.get(id);
  if (!x) throw new HttpError(404, 'not_found', `no ${what} with id '${id}'`);
  if (x.revoked_ms) throw new HttpError(400, 'failed_precondition', `${what} '${x.name}' was already revoked on ${fmt(x.revoked_ms)}`);
  Object.assign(x, { revoked_ms: Date.now(), revoked_by: who(caller).actor, revoke_reason: reason });
  audit({ ...who(caller), action, object: id, purpose: reason, result: 'ok' });
  sendJson(res, 200, { id, revoked: true });
}

function addFaceAuthorisation(/** @type {Ctx} */ { res, body, caller }) {
  const what = 'the face-recognition authorisation';
  const r = record(body, { name: '', legal_basis_ref: '', approval_id: '', all_cameras: false, cameras: [], start_ms: 0, end_ms: 0, purpose: '', issuing_authority: '', expires_ms: 0 }, what);
  need(r, 'name', what);
  need(r, 'issuing_authority', what);
  if (!FACE_PURPOSES.includes(r['purpose'])) throw bad(`${what} is not valid (unreadable purpose '${r['purpose']}'); docs/policy.md lists the fields`);
  r['cameras'].forEach((/** @type {string} */ c, /** @type {number} */ i) => knownCamera(c, `camera ${i + 1}`));
  if (!(r['end_ms'] > r['start_ms'])) throw bad(`${what}'s window ends before it starts`);
  const now = Date.now();
  const why = legalBasisRefusal(r['legal_basis_ref'], 'face_recognition', null, now);
  if (why) {
    audit({ ...who(caller), action: 'face_authorisation.add', object: r['name'], legal_basis: r['legal_basis_ref'], result: 'denied' });
    throw refused(why);
  }
  const approval = APPROVALS.get(r['approval_id']);
  if (!approval || approval.kind !== 'face_authorisation' || approval.status !== 'approved') {
    throw refused(`face recognition needs an approved face_authorisation request (four eyes); '${r['approval_id']}' is ${approval ? `a ${approval.status} ${approval.kind} request` : 'no approval request'}`);
  }
  /** @type {any} */
  const stored = { id: ulid(now), ...r, created_ms: now, created_by: who(caller).actor, revoked_ms: 0, revoked_by: '', revoke_reason: '' };
  FACE_AUTHS.set(stored.id, stored);
  audit({ ...who(caller), action: 'face_authorisation.add', object: stored.id, legal_basis: stored.legal_basis_ref, result: 'ok' });
  sendJson(res, 201, stored);
}

function addAssembly(/** @type {Ctx} */ { res, body, caller }) {
  const what = 'the protected assembly';
  const r = record(body, { name: '', kind: '', targets: [], area: null, start_ms: 0, end_ms: 0 }, what);
  need(r, 'name', what);
  if (!ASSEMBLY_KINDS.includes(r['kind'])) throw bad(`${what} is not valid (unreadable kind '${r['kind']}'); docs/policy.md lists the fields`);
  if (!(r['end_ms'] > r['start_ms'])) throw bad("the assembly's window ends before it starts");
  if (r['targets'].length === 0 && !r['area']) throw bad('the assembly covers nothing; give cameras (optionally with a zone each) or an area');
  /** @type {{camera: string, zone: string}[]} */
  const targets = r['targets'].map((/** @type {any} */ t, /** @type {number} */ i) => {
    if (typeof t !== 'object' || t === null || typeof t.camera !== 'string') throw bad(`${what} is not valid (target ${i + 1} needs a camera); docs/policy.md lists the fields`);
    knownCamera(t.camera, `camera ${i + 1}`);
    return { camera: t.camera, zone: typeof t.zone === 'string' ? t.zone : '' };
  });
  const now = Date.now();
  const stored = { id: ulid(now), name: r['name'], kind: r['kind'], targets, area: r['area'], start_ms: r['start_ms'], end_ms: r['end_ms'], created_ms: now, created_by: who(caller).actor, revoked_ms: 0, revoked_by: '', revoke_reason: '' };
  ASSEMBLIES.set(stored.id, stored);
  audit({ ...who(caller), action: 'assembly.add', object: stored.id, purpose: stored.kind, result: 'ok' });
  sendJson(res, 201, stored);
}

function requestApproval(/** @type {Ctx} */ { res, body, caller }) {
  const what = 'the approval request';
  const r = record(body, { kind: '', object_id: '', legal_basis_ref: '', camera: '', reason: '' }, what);
  const kind = need(r, 'kind', 'the request');
  const rules = APPROVAL_KINDS[kind];
  if (!rules) throw bad(`unknown kind '${kind}'; use watchlist_entry, unblurred_export, evidence_hold or face_authorisation`);
  const me = who(caller);
  if (!may(caller, rules.request)) {
    audit({ ...me, action: 'approval.request', object: r['object_id'], result: 'denied' });
    throw refused(`the ${me.role} role may not ${PERMISSION_TEXT[rules.request] ?? rules.request}`);
  }
  need(r, 'object_id', what);
  need(r, 'reason', what);
  if (r['camera']) knownCamera(r['camera'], 'camera');
  const now = Date.now();
  const why = legalBasisRefusal(r['legal_basis_ref'], rules.act, r['camera'] || null, now);
  if (why) {
    audit({ ...me, action: 'approval.request', object: r['object_id'], legal_basis: r['legal_basis_ref'], result: 'denied' });
    throw refused(why);
  }
  const request = { id: ulid(now), kind, object_id: r['object_id'], legal_basis_ref: r['legal_basis_ref'], camera: r['camera'], reason: r['reason'], requester: me.actor, requester_user_id: 0, created_ms: now, expires_ms: now + 7 * DAY, status: 'pending', decided_by: '', decided_ms: 0, decision_reason: '' };
  APPROVALS.set(request.id, request);
  audit({ ...me, action: 'approval.request', object: request.id, legal_basis: request.legal_basis_ref, purpose: request.reason, result: 'ok' });
  sendJson(res, 201, request);
}

function decide(/** @type {Ctx} */ { res, body, params, caller }, /** @type {boolean} */ approve) {
  const reason = approve ? '' : need(record(body, { reason: '' }, 'the rejection'), 'reason', 'the rejection');
  const id = params['id'] ?? '';
  const request = APPROVALS.get(id);
  if (!request) throw new HttpError(404, 'not_found', `no approval request with id '${id}'`);
  const me = who(caller);
  const action = approve ? 'approval.approve' : 'approval.reject';
  const deny = (/** @type {HttpError} */ e) => {
    audit({ ...me, action, object: id, legal_basis: request.legal_basis_ref, result: 'denied' });
    return e;
  };
  if (request.kind === 'hotlist_entry') throw bad(`request ${id} is a plate hotlist entry's; decide it with POST /api/plates/hotlist/${request.object_id}/${approve ? 'approve' : 'reject'}`);
  const rules = APPROVAL_KINDS[request.kind];
  if (!rules || !may(caller, rules.decide)) throw deny(refused(`the ${me.role} role may not ${PERMISSION_TEXT[rules?.decide ?? ''] ?? 'decide this'}; a supervisor must decide this ${request.kind} request`));
  if (request.requester === me.actor) throw deny(refused(`you made this request yourself; four eyes: a different supervisor must ${approve ? 'approve' : 'reject'} it`));
  const now = Date.now();
  if (request.status !== 'pending') throw deny(new HttpError(400, 'failed_precondition', `request ${request.id} was already ${request.status} by ${request.decided_by} on ${fmt(request.decided_ms)}; a request is decided once. Ask for a new request if needed`));
  if (now >= request.expires_ms) throw deny(new HttpError(400, 'failed_precondition', `request ${request.id} expired on ${fmt(request.expires_ms)} without a decision; ask ${request.requester} to make a new one`));
  if (approve) {
    const why = legalBasisRefusal(request.legal_basis_ref, rules.act, request.camera || null, now);
    if (why) throw deny(refused(`the request cannot be approved: ${why}`));
  }
  Object.assign(request, { status: approve ? 'approved' : 'rejected', decided_by: me.actor, decided_ms: now, decision_reason: reason });
  audit({ ...me, action, object: id, legal_basis: request.legal_basis_ref, purpose: reason, result: 'ok' });
  sendJson(res, 200, request);
}

function placeHold(/** @type {Ctx} */ { res, body, caller }) {
  const what = 'the evidence hold';
  const r = record(body, { segment_ids: [], camera: '', from_ms: 0, to_ms: 0, legal_basis_ref: '', case_reference: '', approval_id: '' }, what);
  need(r, 'case_reference', what);
  const me = who(caller);
  const now = Date.now();
  const why = legalBasisRefusal(r['legal_basis_ref'], 'evidence_hold', r['camera'] || null, now);
  if (why) throw refused(why);
  const approval = APPROVALS.get(r['approval_id']);
  if (!approval || approval.kind !== 'evidence_hold' || approval.status !== 'approved') throw refused(`an evidence hold needs an approved evidence_hold request (four eyes); '${r['approval_id']}' is not one`);
  const cam = r['camera'] ? cameraById.get(r['camera']) : undefined;
  if (r['camera'] && !cam) knownCamera(r['camera'], 'camera');
  const segments = cam ? segmentsOf(cam, r['from_ms'], r['to_ms']).map((s) => s.start_ms) : r['segment_ids'];
  const hold = { id: ulid(now), segment_ids: r['segment_ids'], camera: r['camera'], from_ms: r['from_ms'], to_ms: r['to_ms'], legal_basis_ref: r['legal_basis_ref'], case_reference: r['case_reference'], approval_id: r['approval_id'], segments, placed_ms: now, placed_by: me.actor, released_ms: 0, released_by: '', release_reason: '' };
  HOLDS.set(hold.id, hold);
  audit({ ...me, action: 'hold.place', object: hold.id, legal_basis: hold.legal_basis_ref, result: 'ok' });
  sendJson(res, 201, hold);
}

function releaseHold(/** @type {Ctx} */ { res, body, params, caller }) {
  const reason = need(record(body, { reason: '' }, 'the release'), 'reason', 'the release');
  const hold = HOLDS.get(params['id'] ?? '');
  if (!hold) throw new HttpError(404, 'not_found', `no evidence hold with id '${params['id']}'`);
  if (hold.released_ms) throw new HttpError(400, 'failed_precondition', `evidence hold ${hold.id} was already released on ${fmt(hold.released_ms)}`);
  Object.assign(hold, { released_ms: Date.now(), released_by: who(caller).actor, release_reason: reason });
  audit({ ...who(caller), action: 'hold.release', object: hold.id, purpose: reason, result: 'ok' });
  sendJson(res, 200, { id: hold.id, released: true });
}

function auditEntries(/** @type {Ctx} */ { res, query, caller }) {
  const from = intParam(query, 'from', 0);
  const limit = intParam(query, 'limit', 100);
  if (from < 0 || limit < 1 || limit > 1000) throw bad("'from' is an entry index (>= 0) and 'limit' 1..1000, e.g. from=0&limit=100");
  // The read is recorded first (AuditLog::Read).
  audit({ ...who(caller), action: 'audit_read', object: `entries ${from}..${from + limit - 1}`, result: 'ok' });
  const entries = AUDIT.slice(from, from + limit).map((text, i) => ({ index: from + i, entry: JSON.parse(text) }));
  sendJson(res, 200, { size: AUDIT.length, entries });
}

function auditProof(/** @type {Ctx} */ { res, query }) {
  if (query['index'] === undefined) throw bad("give the entry's 'index' (and optionally 'size', a signed checkpoint's tree size; default the latest)");
  const index = intParam(query, 'index', 0);
  const latest = latestCheckpointSize();
  if (latest === null) throw new HttpError(404, 'not_found', 'the audit log has no checkpoint yet');
  const size = query['size'] === undefined ? latest : intParam(query, 'size', 0);
  const note = CHECKPOINTS.get(size);
  if (!note) throw new HttpError(404, 'not_found', `no checkpoint of tree size ${size}`);
  if (index < 0 || index >= size) throw bad(`entry ${index} is not in the checkpoint of tree size ${size}; the next checkpoint (every minute) will cover newer entries`);
  const proof = [];
  for (let n = size; n > 1; n = Math.ceil(n / 2)) proof.push(randomBytes(32).toString('base64'));
  sendJson(res, 200, { index, tree_size: size, leaf_hash: createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(AUDIT[index] ?? '')])).digest('base64'), proof, checkpoint: note, entry: AUDIT[index] });
}

function publicCheckpoint(/** @type {Ctx} */ { res }) {
  const size = latestCheckpointSize();
  if (size === null) throw new HttpError(404, 'not_found', 'the audit log has no checkpoint yet');
  sendJson(res, 200, { size, checkpoint: CHECKPOINTS.get(size), verifier_key: VERIFIER_KEY });
}

function consistency(/** @type {Ctx} */ { res, query }) {
  if (query['from'] === undefined) throw bad("give 'from' (and optionally 'to', default the latest) as tree sizes of signed checkpoints, e.g. from=120");
  const size1 = intParam(query, 'from', 0);
  const size2 = query['to'] === undefined ? latestCheckpointSize() : intParam(query, 'to', 0);
  if (size2 === null) throw new HttpError(404, 'not_found', 'the audit log has no checkpoint yet');
  for (const s of [size1, size2]) if (!CHECKPOINTS.has(s)) throw new HttpError(404, 'not_found', `no checkpoint of tree size ${s}`);
  sendJson(res, 200, { size1, size2, proof: size1 === size2 ? [] : [randomBytes(32).toString('base64')], checkpoint1: CHECKPOINTS.get(size1), checkpoint2: CHECKPOINTS.get(size2) });
}

// ---------------------------------------------------------------------------------------------
// Licence plates (docs/plates.md): reads of the ring-road and car-park cameras, queried only
// with a case reference and a legal basis in force covering plate_query (recorded in the audit
// log before anything is returned); a hotlist whose entries need a different supervisor's
// approval; hits, leads a person confirms or rejects against the crop.
const LOOK_ALIKES = ['0ODQ', '1I', '8B', '5S', '2Z', '6G', '4A', '7T'];
const lookAlike = (/** @type {string} */ a, /** @type {string} */ b) => LOOK_ALIKES.some((g) => g.includes(a) && g.includes(b));
const PLATE_POOL = ['BKX4821', 'MZ7710', 'HH0S533', 'KA5512B', 'DD48Z21', 'BG1204KI', 'NS0471AA', 'FR512XB', 'M7731EN', 'LB2290', 'B1Q7736', 'P0TS218', 'HB3380', 'KL66GA', 'SE8812K', 'AZ3301', 'TT41B70', 'W8802XC', 'OD5561', 'GR2T440', 'CV19OK', 'RX7045B', 'BKX4621', 'EU2208', 'ZA6617'];
const PLATE_LABELS = ['car', 'car', 'car', 'truck', 'van', 'bus', 'motorcycle'];

/** `plate` with one look-alike character swapped, as a reader might misread it. */
function misread(/** @type {string} */ plate) {
  const spots = [...plate].map((c, i) => [c, i]).filter(([c]) => LOOK_ALIKES.some((g) => g.includes(String(c))));
  if (spots.length === 0) return plate;
  const [c, i] = /** @type {[string, number]} */ (spots[Math.floor(Math.random() * spots.length)]);
  const group = /** @type {string} */ (LOOK_ALIKES.find((g) => g.includes(c)));
  const other = pick([...group].filter((x) => x !== c));
  return plate.slice(0, i) + other + plate.slice(i + 1);
}

/**
 * The fewest look-alike substitutions with which `text` fits `pattern` (`?` one character,
 * `*` any run, other characters themselves or a look-alike), or Infinity.
 */
function patternDistance(/** @type {string} */ pattern, /** @type {string} */ text) {
  /** @type {Map<number, number>} */
  const memo = new Map();
  const go = (/** @type {number} */ i, /** @type {number} */ j) => {
    const key = i * 64 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let best = Infinity;
    const p = pattern[i];
    const t = text[j];
    if (p === undefined) best = t === undefined ? 0 : Infinity;
    else if (p === '*') best = Math.min(go(i + 1, j), t === undefined ? Infinity : go(i, j + 1));
    else if (t !== undefined) {
      if (p === '?' || p === t) best = go(i + 1, j + 1);
      else if (lookAlike(p, t)) best = 1 + go(i + 1, j + 1);
    }
    memo.set(key, best);
    return best;
  };
  return go(0, 0);
}

/**
 * @typedef {{ id: string, camera: string, time_ms: number, plate: string, confidence: number,
 *   candidates: {text: string, confidence: number}[], label: string, track_id: number, frames: number, truth: string }} PlateReadRecord
 */
/** @type {PlateReadRecord[]} ascending time */
const PLATE_READS = [];
const round2 = (/** @type {number} */ x) => Math.round(x * 100) / 100;
function addRead(/** @type {string} */ camera, /** @type {number} */ time_ms, /** @type {string} */ truth, /** @type {string} */ plate = truth) {
  const confidence = round2(0.55 + Math.random() * 0.44);
  const candidates = [{ text: plate, confidence }];
  for (const alt of new Set([misread(plate), misread(plate)])) {
    if (alt !== plate) candidates.push({ text: alt, confidence: round2(confidence * (0.2 + Math.random() * 0.4)) });
  }
  /** @type {PlateReadRecord} */
  const read = { id: ulid(time_ms), camera, time_ms, plate, confidence, candidates, label: pick(PLATE_LABELS), track_id: trackId++, frames: 3 + Math.floor(Math.random() * 28), truth };
  PLATE_READS.push(read);
  return read;
}
for (let t = START_MS - 24 * 3600_000; t < START_MS; t += 30_000 + Math.random() * 90_000) {
  const camera = Math.random() < 0.8 ? 'ringroad' : 'parking';
  if (camera === 'parking' && t > START_MS - 3 * 60_000) continue; // disconnected since
  const truth = pick(PLATE_POOL);
  addRead(camera, Math.round(t), truth, Math.random() < 0.12 ? misread(truth) : truth);
}
const readJson = (/** @type {PlateReadRecord} */ r) => ({ id: r.id, camera: r.camera, time_ms: r.time_ms, plate: r.plate, confidence: r.confidence, candidates: r.candidates, label: r.label, track_id: r.track_id, frames: r.frames, crop: `/api/plates/reads/${r.id}/crop.jpg` });

/** A JPEG of a plate reading `text` (made with ffmpeg's drawtext once per text; a camera frame if that fails). */
const plateImages = /** @type {Map<string, Buffer>} */ (new Map());
const PLATE_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf';
function plateJpeg(/** @type {string} */ text) {
  const cached = plateImages.get(text);
  if (cached) return cached;
  let data = media.frames[0] ?? Buffer.alloc(0);
  const file = path.join(MEDIA, `plate-${text}.jpg`);
  try {
    if (!fs.existsSync(file)) {
      const shown = text.length > 4 ? `${text.slice(0, text.length - 4)} ${text.slice(-4)}` : text;
      execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'color=c=0xf1f5f9:s=240x80', '-frames:v', '1', '-vf', `drawbox=x=3:y=3:w=234:h=74:color=0x111827:t=3,drawtext=fontfile=${PLATE_FONT}:text=${shown}:fontsize=40:fontcolor=0x111827:x=(w-text_w)/2:y=(h-text_h)/2`, file]);
    }
    data = fs.readFileSync(file);
  } catch {
    // No drawtext or font: a frame stands in.
  }
  plateImages.set(text, data);
  return data;
}

/** A plate pattern as the API takes it, or a 400 saying what to fix. */
function platePatternParam(/** @type {string} */ text) {
  const pattern = text.toUpperCase().replace(/[\s\-.·]/g, '').replace(/\*+/g, '*');
  if (/[^A-Z0-9?*]/.test(pattern)) throw bad(`'plate' may hold letters A-Z, digits 0-9, '?' (one unknown character) and '*' (any run of characters); '${text}' has others`);
  if (pattern && !/[A-Z0-9]/.test(pattern)) throw bad("'plate' needs at least one known character; wildcards alone would match every plate");
  if (pattern.replace(/\*/g, '').length > 10) throw bad("'plate' is longer than a plate (at most 10 characters)");
  return pattern;
}

/** The case and legal basis every plate read access needs: 400 without a case, 403 with the engine's reason. */
function plateAccess(/** @type {Record<string, string>} */ query, /** @type {Caller} */ caller, /** @type {string} */ camera, /** @type {string} */ object) {
  const me = who(caller);
  const caseRef = query['case'] ?? '';
  const basis = query['legal_basis'] ?? '';
  const deny = (/** @type {HttpError} */ e) => {
    audit({ ...me, action: 'plate_query', object, legal_basis: basis, purpose: caseRef ? `case ${caseRef}` : '', result: 'denied' });
    return e;
  };
  if (!caseRef) throw deny(bad("a case reference is required: give 'case', the case this plate query is for (1 to 200 characters); it is recorded in the audit log with the query"));
  if ([...caseRef].length > 200) throw deny(bad("'case' is at most 200 characters"));
  const why = legalBasisRefusal(basis, 'plate_query', camera, Date.now());
  if (why) throw deny(refused(why));
  return { me, caseRef, basis };
}

function plateReads(/** @type {Ctx} */ { res, query, caller }) {
  const camera = query['camera'] ?? '';
  const { me, caseRef, basis } = plateAccess(query, caller, camera, `plate reads ${query['plate'] ?? '*'}`);
  if (camera) knownCamera(camera, "'camera'");
  const pattern = platePatternParam(query['plate'] ?? '');
  const maxConfusions = intParam(query, 'max_confusions', 0);
  if (maxConfusions < 0 || maxConfusions > 2) throw bad("'max_confusions' is 0, 1 or 2: how many look-alike characters (0/O, 8/B, ...) may differ");
  const limit = intParam(query, 'limit', 100);
  if (limit < 1 || limit > 1000) throw bad("'limit' must be from 1 to 1000");
  const { from, to } = range(query, 24 * 3600_000, 31 * DAY, '31 days');
  // On record before anything is returned (DESIGN.md §1.4).
  const queryId = ulid(Date.now());
  audit({ ...me, action: 'plate_query', object: queryId, legal_basis: basis, purpose: `case ${caseRef}`, result: 'ok', details: { plate: pattern, camera, from_ms: from, to_ms: to, max_confusions: maxConfusions } });
  const found = [];
  for (let i = PLATE_READS.length - 1; i >= 0; i -= 1) {
    const r = /** @type {PlateReadRecord} */ (PLATE_READS[i]);
    if (r.time_ms < from || r.time_ms >= to || (camera && r.camera !== camera)) continue;
    if (pattern && Math.min(...[r.plate, ...r.candidates.map((c) => c.text)].map((t) => patternDistance(pattern, t))) > maxConfusions) continue;
    found.push(r);
  }
  found.sort((a, b) => b.time_ms - a.time_ms);
  sendJson(res, 200, { query_id: queryId, case: caseRef, legal_basis: basis, count: found.length, truncated: found.length > limit, reads: found.slice(0, limit).map(readJson) });
}

function plateReadCrop(/** @type {Ctx} */ { res, params, query, caller }) {
  const r = PLATE_READS.find((x) => x.id === params['id']);
  if (!r) throw new HttpError(404, 'not_found', `no plate read '${params['id']}'`);
  const { me, caseRef, basis } = plateAccess(query, caller, r.camera, `crop of plate read ${r.id}`);
  audit({ ...me, action: 'plate_crop', object: r.id, legal_basis: basis, purpose: `case ${caseRef}`, result: 'ok' });
  sendBytes(res, 'image/jpeg', plateJpeg(r.truth));
}

/** @type {Map<string, any>} by id */
const HOTLIST = new Map();
const HOTLIST_DAYS = 7;
const HOTLIST_MAX_DAYS = 30;
function hotlistStatus(/** @type {any} */ e, /** @type {number} */ now) {
  return (e.status === 'pending' || e.status === 'active') && now >= e.expires_ms ? 'expired' : e.status;
}
const hotlistJson = (/** @type {any} */ e) => ({ ...e, status: hotlistStatus(e, Date.now()) });
function addHotlistEntry(/** @type {Record<string, any>} */ fields, /** @type {number} */ now) {
  const id = ulid(now);
  const approval = { id: ulid(now), kind: 'hotlist_entry', object_id: id, legal_basis_ref: fields['legal_basis_ref'], camera: '', reason: fields['reason'], requester: fields['proposed_by'], requester_user_id: 0, created_ms: now, expires_ms: fields['expires_ms'], status: fields['status'] === 'pending' ? 'pending' : fields['status'] === 'rejected' ? 'rejected' : 'approved', decided_by: fields['decided_by'] ?? '', decided_ms: fields['decided_ms'] ?? 0, decision_reason: '' };
  APPROVALS.set(approval.id, approval);
  const entry = { id, plate: '', label: '', reason: '', legal_basis_ref: '', max_confusions: 1, status: 'pending', proposed_by: '', proposed_ms: now, expires_ms: 0, approval_id: approval.id, decided_by: '', decided_ms: 0, decision_reason: '', withdrawn_by: '', withdrawn_ms: 0, withdraw_reason: '', ...fields };
  HOTLIST.set(id, entry);
  return entry;
}
const STOLEN_VAN = addHotlistEntry({ plate: 'BKX4821', label: 'Stolen van (case 2026/118)', reason: 'Van stolen from the depot on Linienstraße; owner reported it', legal_basis_ref: 'PQ-2026/031', max_confusions: 1, status: 'active', proposed_by: 'investigator', proposed_ms: START_MS - 2 * DAY, expires_ms: START_MS + 5 * DAY, decided_by: 'supervisor1', decided_ms: START_MS - 2 * DAY + 3600_000 }, START_MS - 2 * DAY);
addHotlistEntry({ plate: 'HH0S533', label: 'Hit-and-run suspect vehicle', reason: 'Witness statement, case 2026/131: dark estate car', legal_basis_ref: 'PQ-2026/031', max_confusions: 2, status: 'pending', proposed_by: 'investigator', proposed_ms: START_MS - 3 * 3600_000, expires_ms: START_MS + 7 * DAY - 3 * 3600_000 }, START_MS - 3 * 3600_000);
addHotlistEntry({ plate: 'KA5512B', label: 'Missing person’s car', reason: 'Family reported the driver missing', legal_basis_ref: 'PQ-2026/031', max_confusions: 1, status: 'withdrawn', proposed_by: 'investigator', proposed_ms: START_MS - 6 * DAY, expires_ms: START_MS + 1 * DAY, decided_by: 'supervisor1', decided_ms: START_MS - 6 * DAY + 1800_000, withdrawn_by: 'investigator', withdrawn_ms: START_MS - 4 * DAY, withdraw_reason: 'Person found; car located' }, START_MS - 6 * DAY);

/** @type {Map<string, any>} by id, ascending */
const HITS = new Map();
function addHit(/** @type {any} */ entry, /** @type {PlateReadRecord} */ read, /** @type {string} */ status = 'lead', /** @type {string} */ decidedBy = '') {
  const id = ulid(read.time_ms);
  const hit = { id, time_ms: read.time_ms, camera: read.camera, plate: read.plate, plate_read: read.id, entry_id: entry.id, entry_plate: entry.plate, entry_label: entry.label, distance: patternDistance(entry.plate, read.plate), confidence: read.confidence, status, crop: `/api/plates/hits/${id}/crop.jpg`, decided_by: decidedBy, decided_ms: decidedBy ? read.time_ms + 600_000 : 0, decision_reason: status === 'rejected' ? 'The crop shows BKX 4621, not the van' : '', truth: read.truth };
  HITS.set(id, hit);
  return hit;
}
for (const [hoursAgo, truth, plate, status] of /** @type {[number, string, string, string][]} */ ([[20, 'BKX4821', 'BKX4821', 'confirmed'], [14, 'BKX4621', 'BKX4821', 'rejected'], [6, 'BKX4821', '8KX4821', 'confirmed'], [1.5, 'BKX4821', 'BKX4821', 'lead'], [0.4, 'BKX4821', 'BKX482I', 'lead']])) {
  const read = addRead('ringroad', Math.round(START_MS - hoursAgo * 3600_000), truth, plate);
  addHit(STOLEN_VAN, read, status, status === 'lead' ? '' : 'operator1');
}
PLATE_READS.sort((a, b) => a.time_ms - b.time_ms);
const hitJson = (/** @type {any} */ x) => Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'truth'));

// Now and then a hotlisted plate passes the ring road: a read, a hit (a lead) and a plate_hit
// event on the live stream (not stored as an event: the hit is its record).
const plateTimer = setInterval(() => {
  const now = Date.now();
  for (let i = 0; i < 2; i += 1) addRead('ringroad', now - 1000 * (i + 1), pick(PLATE_POOL));
  const active = [...HOTLIST.values()].filter((e) => hotlistStatus(e, now) === 'active');
  const entry = active[Math.floor(Math.random() * active.length)];
  if (!entry) return;
  let plate = Math.random() < 0.4 ? misread(entry.plate) : entry.plate;
  if (patternDistance(entry.plate, plate) > entry.max_confusions) plate = entry.plate;
  const read = addRead('ringroad', now, entry.plate, plate);
  const hit = addHit(entry, read);
  broadcast(/** @type {MockEvent} */ (/** @type {unknown} */ ({ box: [96, 120, 80, 24], camera: 'ringroad', id: hit.id, label: read.label, lead: true, plate: read.plate, plate_read: read.id, score: read.confidence, time: new Date(now).toISOString(), time_ms: now, track_id: read.track_id, type: 'plate_hit', watchlist_entry: entry.id, watchlist_label: entry.label })));
}, PLATE_HIT_INTERVAL_MS);

function listHotlist(/** @type {Ctx} */ { res }) {
  sendJson(res, 200, { entries: [...HOTLIST.values()].sort((a, b) => b.proposed_ms - a.proposed_ms).map(hotlistJson) });
}

function proposeHotlist(/** @type {Ctx} */ { res, body, caller }) {
  const what = 'the hotlist entry';
  const r = record(body, { plate: '', label: '', reason: '', legal_basis_ref: '', expires_ms: 0, max_confusions: 1 }, what);
  const plate = String(r['plate']).toUpperCase().replace(/[\s\-.·]/g, '');
  if (!/^[A-Z0-9]{2,10}$/.test(plate)) throw bad(`${what} needs 'plate': a whole plate of 2 to 10 letters and digits, without wildcards ('max_confusions' allows look-alike characters)`);
  need(r, 'label', what);
  need(r, 'reason', what);
  const maxConfusions = r['max_confusions'];
  if (!Number.isInteger(maxConfusions) || maxConfusions < 0 || maxConfusions > 2) throw bad("'max_confusions' is 0, 1 or 2");
  const me = who(caller);
  const now = Date.now();
  const why = legalBasisRefusal(r['legal_basis_ref'], 'plate_hotlist', null, now);
  if (why) {
    audit({ ...me, action: 'plate_hotlist.propose', object: plate, legal_basis: r['legal_basis_ref'], result: 'denied' });
    throw refused(why);
  }
  const basis = LEGAL_BASES.get(r['legal_basis_ref']);
  const expires = r['expires_ms'] || Math.min(now + HOTLIST_DAYS * DAY, basis.expires_ms);
  if (expires <= now) throw bad("'expires_ms' is in the past");
  if (expires > now + HOTLIST_MAX_DAYS * DAY) throw bad(`a hotlist entry lasts at most ${HOTLIST_MAX_DAYS} days; give 'expires_ms' before ${fmt(now + HOTLIST_MAX_DAYS * DAY)}`);
  if (expires > basis.expires_ms) throw bad(`legal basis '${basis.reference}' expires on ${fmt(basis.expires_ms)}; the entry cannot outlast it`);
  const twin = [...HOTLIST.values()].find((e) => e.plate === plate && ['pending', 'active'].includes(hotlistStatus(e, now)));
  if (twin) throw new HttpError(409, 'already_exists', `plate ${plate} is already on the hotlist (entry ${twin.id}, ${hotlistStatus(twin, now)}, "${twin.label}")`);
  const entry = addHotlistEntry({ plate, label: r['label'], reason: r['reason'], legal_basis_ref: r['legal_basis_ref'], max_confusions: maxConfusions, status: 'pending', proposed_by: me.actor, proposed_ms: now, expires_ms: expires }, now);
  audit({ ...me, action: 'plate_hotlist.propose', object: entry.id, legal_basis: entry.legal_basis_ref, purpose: entry.reason, result: 'ok' });
  sendJson(res, 201, hotlistJson(entry));
}

function hotlistEntry(/** @type {Record<string, string>} */ params) {
  const entry = HOTLIST.get(params['id'] ?? '');
  if (!entry) throw new HttpError(404, 'not_found', `no hotlist entry with id '${params['id']}'`);
  return entry;
}

function decideHotlist(/** @type {Ctx} */ { res, body, params, caller }, /** @type {boolean} */ approve) {
  const reason = approve ? (record(body, {}, 'the approval'), '') : need(record(body, { reason: '' }, 'the rejection'), 'reason', 'the rejection');
  const entry = hotlistEntry(params);
  const me = who(caller);
  const action = approve ? 'plate_hotlist.approve' : 'plate_hotlist.reject';
  const deny = (/** @type {HttpError} */ e) => {
    audit({ ...me, action, object: entry.id, legal_basis: entry.legal_basis_ref, result: 'denied' });
    return e;
  };
  if (entry.proposed_by === me.actor) throw deny(refused(`you proposed this entry yourself; four eyes: a different supervisor must ${approve ? 'approve' : 'reject'} it`));
  const now = Date.now();
  const status = hotlistStatus(entry, now);
  if (status !== 'pending') throw deny(new HttpError(400, 'failed_precondition', `hotlist entry ${entry.plate} is ${status}${entry.decided_by ? ` (decided by ${entry.decided_by} on ${fmt(entry.decided_ms)})` : ''}; only a pending entry is decided`));
  if (approve) {
    const why = legalBasisRefusal(entry.legal_basis_ref, 'plate_query', null, now);
    if (why) throw deny(refused(`the entry cannot be approved: ${why}`));
  }
  Object.assign(entry, { status: approve ? 'active' : 'rejected', decided_by: me.actor, decided_ms: now, decision_reason: reason });
  Object.assign(APPROVALS.get(entry.approval_id) ?? {}, { status: approve ? 'approved' : 'rejected', decided_by: me.actor, decided_ms: now, decision_reason: reason });
  audit({ ...me, action, object: entry.id, legal_basis: entry.legal_basis_ref, purpose: reason, result: 'ok' });
  sendJson(res, 200, hotlistJson(entry));
}

function withdrawHotlist(/** @type {Ctx} */ { res, body, params, caller }) {
  const reason = need(record(body, { reason: '' }, 'the withdrawal'), 'reason', 'the withdrawal');
  const entry = hotlistEntry(params);
  const now = Date.now();
  const status = hotlistStatus(entry, now);
  if (status !== 'pending' && status !== 'active') throw new HttpError(400, 'failed_precondition', `hotlist entry ${entry.plate} is ${status}; only a pending or active entry is withdrawn`);
  const me = who(caller);
  Object.assign(entry, { status: 'withdrawn', withdrawn_by: me.actor, withdrawn_ms: now, withdraw_reason: reason });
  audit({ ...me, action: 'plate_hotlist.withdraw', object: entry.id, legal_basis: entry.legal_basis_ref, purpose: reason, result: 'ok' });
  sendJson(res, 200, hotlistJson(entry));
}

function listHits(/** @type {Ctx} */ { res, query }) {
  const status = query['status'];
  if (status !== undefined && !['lead', 'confirmed', 'rejected'].includes(status)) throw bad("'status' is lead, confirmed or rejected");
  if (query['camera']) knownCamera(query['camera'], "'camera'");
  const { from, to } = range(query, 7 * DAY, 31 * DAY, '31 days');
  const hits = [...HITS.values()].sort((a, b) => b.time_ms - a.time_ms).filter((x) => x.time_ms >= from && x.time_ms < to && (!status || x.status === status) && (!query['camera'] || x.camera === query['camera']));
  sendJson(res, 200, { hits: hits.slice(0, 1000).map(hitJson) });
}

function hitOf(/** @type {Record<string, string>} */ params) {
  const hit = HITS.get(params['id'] ?? '');
  if (!hit) throw new HttpError(404, 'not_found', `no plate hit with id '${params['id']}'`);
  return hit;
}

function hitCrop(/** @type {Ctx} */ { res, params }) {
  sendBytes(res, 'image/jpeg', plateJpeg(hitOf(params).truth));
}

function decideHit(/** @type {Ctx} */ { res, body, params, caller }, /** @type {boolean} */ confirm) {
  const reason = confirm ? (record(body, {}, 'the confirmation'), '') : need(record(body, { reason: '' }, 'the rejection'), 'reason', 'the rejection');
  const hit = hitOf(params);
  if (hit.status !== 'lead') throw new HttpError(400, 'failed_precondition', `plate hit ${hit.id} was already ${hit.status} by ${hit.decided_by} on ${fmt(hit.decided_ms)}; a hit is decided once`);
  const me = who(caller);
  Object.assign(hit, { status: confirm ? 'confirmed' : 'rejected', decided_by: me.actor, decided_ms: Date.now(), decision_reason: reason });
  audit({ ...me, action: confirm ? 'plate_hit.confirm' : 'plate_hit.reject', object: hit.id, purpose: reason, result: 'ok' });
  sendJson(res, 200, hitJson(hit));
}

// ---------------------------------------------------------------------------------------------
// Traffic counts (docs/traffic.md): vehicles per counting line, direction and class, made up per
// minute from a hash of the minute (the same answer for the same minute, for any bucket size),
// with rush hours. Mean speeds are advisory.
const TRAFFIC = /** @type {Record<string, {line: string, direction: string, label: string, rate: number, speed: number}[]>} */ ({
  ringroad: [
    { line: 'main', direction: 'eastbound', label: 'car', rate: 7, speed: 54 },
    { line: 'main', direction: 'eastbound', label: 'truck', rate: 1.2, speed: 46 },
    { line: 'main', direction: 'eastbound', label: 'bus', rate: 0.3, speed: 42 },
    { line: 'main', direction: 'westbound', label: 'car', rate: 5.5, speed: 56 },
    { line: 'main', direction: 'westbound', label: 'truck', rate: 1, speed: 47 },
    { line: 'main', direction: 'westbound', label: 'bus', rate: 0.3, speed: 43 },
    { line: 'ramp', direction: 'onto ring', label: 'car', rate: 1.6, speed: 34 },
    { line: 'ramp', direction: 'onto ring', label: 'truck', rate: 0.3, speed: 29 },
  ],
});
/** A number in [0, 1) from integers, the same every time (FNV-1a and a final mix). */
function hash01(/** @type {number[]} */ ...values) {
  let h = 2166136261;
  for (const v of values) {
    h ^= v | 0;
    h = Math.imul(h, 16777619);
    h ^= Math.floor(v / 2 ** 32);
    h = Math.imul(h, 16777619);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 2 ** 32;
}
/** Traffic level by local hour: quiet nights, morning and evening peaks. */
function dayShape(/** @type {number} */ minute_ms) {
  const d = new Date(minute_ms);
  const hour = d.getHours() + d.getMinutes() / 60;
  const peak = (/** @type {number} */ at, /** @type {number} */ width) => Math.exp(-((hour - at) ** 2) / width);
  return 0.08 + 0.35 * peak(14, 30) + 0.6 * peak(8, 2) + 0.7 * peak(17.5, 3);
}

function trafficCounts(/** @type {Ctx} */ { res, query }) {
  const cameraId = query['camera'];
  if (!cameraId) throw bad("give 'camera': traffic is counted per camera");
  const c = cameraById.get(cameraId);
  if (!c) throw new HttpError(404, 'not_found', `no camera '${cameraId}'`);
  const all = TRAFFIC[c.id] ?? [];
  const line = query['line'];
  const lines = [...new Set(all.map((s) => s.line))];
  if (line !== undefined && !lines.includes(line)) throw bad(`camera '${c.id}' has no vehicle counting line '${line}'; ${lines.length ? `its lines: ${lines.join(', ')}` : 'it has none'}`);
  const bucket_s = intParam(query, 'bucket_s', 3600);
  if (bucket_s < 60 || bucket_s > 86400) throw bad("'bucket_s' must be an integer from 60 to 86400");
  const { from, to } = range(query, 24 * 3600_000, 366 * DAY, '366 days');
  const bucket_ms = bucket_s * 1000;
  const first = Math.floor(from / bucket_ms) * bucket_ms;
  const n = Math.ceil((to - first) / bucket_ms);
  if (n > 1000) throw bad(`that is ${n} buckets; at most 1000: choose a larger bucket_s or a shorter range`);
  const chosen = all.map((s, i) => ({ s, i })).filter(({ s }) => line === undefined || s.line === line);
  const counts = Array.from({ length: n }, () => chosen.map(() => 0));
  const speedSums = Array.from({ length: n }, () => chosen.map(() => 0));
  const end = Math.min(to, Date.now());
  for (let m = Math.ceil(from / 60_000) * 60_000; m < end; m += 60_000) {
    const b = Math.floor((m - first) / bucket_ms);
    const shape = dayShape(m);
    chosen.forEach(({ s, i }, k) => {
      // Rounded at random, so that quiet hours still see a vehicle now and then.
      const count = Math.floor(s.rate * shape * (0.5 + hash01(m / 60_000, i)) + hash01(m / 60_000, i, 3));
      if (count === 0) return;
      const speed = s.speed - 14 * Math.max(0, shape - 0.6) + 8 * (hash01(m / 60_000, i, 7) - 0.5);
      /** @type {number[]} */ (counts[b])[k] += count;
      /** @type {number[]} */ (speedSums[b])[k] += speed * count;
    });
  }
  sendJson(res, 200, {
    camera: c.id,
    bucket_ms,
    from_ms: from,
    to_ms: to,
    series: chosen.map(({ s }) => ({ line: s.line, direction: s.direction, label: s.label })),
    buckets: counts.map((row, b) => ({
      start_ms: first + b * bucket_ms,
      counts: row,
      mean_speed_kmh: row.map((count, k) => (count > 0 ? Math.round(((speedSums[b]?.[k] ?? 0) / count) * 10) / 10 : null)),
    })),
  });
}

const CAMERA_PURPOSE = /** @type {Record<string, string>} */ ({ entrance: 'Safety of the town hall entrance', parking: 'Theft prevention in the car park', platform: 'Safety of passengers at the tram stop', ringroad: 'Traffic safety on the ring road (counts, wrong-way drivers, stopped vehicles)' });
function registerJson() {
  const now = Date.now();
  return {
    operator: 'Mock city, public order office',
    generated_ms: now,
    cameras: CAMERAS.map((c) => ({
      id: c.id,
      name: c.name,
      enabled: c.enabled,
      location: c.location,
      purpose: CAMERA_PURPOSE[c.id] ?? null,
      recording: 'continuous',
      retention: { video_hours: 72, events_days: 30, snapshots_days: 7 },
      legal_bases: [...LEGAL_BASES.values()]
        .filter((b) => inForce(now, b.valid_from_ms, b.expires_ms, b.revoked_ms) && (b.scope.cameras.length === 0 || b.scope.cameras.includes(c.id)))
        .map((b) => ({ reference: b.reference, type: b.type, issuing_authority: b.issuing_authority, acts: b.scope.acts, expires_ms: b.expires_ms })),
      capabilities: {
        object_detection: c.enabled,
        zones: ANALYTICS[c.id]?.zones ?? [],
        counting_lines: ANALYTICS[c.id]?.lines ?? [],
        loitering_alerts: true,
        face_recognition: c.enabled && faceRecognitionOn(c.id, now),
        plate_recognition: PLATE_CAMERAS.includes(c.id),
      },
    })),
  };
}
function register(/** @type {Ctx} */ { res }) {
  sendJson(res, 200, registerJson());
}
function registerCsv(/** @type {Ctx} */ { res }) {
  const field = (/** @type {string} */ v) => `"${(/^[=+\-@]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"`;
  const reg = registerJson();
  let csv = 'id,name,enabled,lat,lon,operator,purpose,recording,video_hours,events_days,object_detection,face_recognition,plate_recognition,legal_bases\r\n';
  for (const c of reg.cameras) {
    csv += [field(c.id), field(c.name), c.enabled, c.location?.lat ?? '', c.location?.lon ?? '', field(reg.operator), field(c.purpose ?? ''), c.recording, c.retention.video_hours, c.retention.events_days, c.capabilities.object_detection, c.capabilities.face_recognition, c.capabilities.plate_recognition, field(c.legal_bases.map((b) => b.reference).join('; '))].join(',') + '\r\n';
  }
  res.writeHead(200, { ...API_HEADERS, 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'inline; filename="custos-register.csv"' });
  res.end(csv);
}

/** PublicStatistics::Json of src/server/transparency.cc, counted from the mock's audit log. */
function publicStats(/** @type {Ctx} */ { res }) {
  const keys = ['logins', 'live_views', 'playbacks', 'searches', 'plate_queries', 'exports', 'deletions', 'matches', 'confirmed_matches', 'false_matches', 'plate_hits', 'confirmed_plate_hits', 'false_plate_hits', 'approvals_requested', 'approvals_granted', 'approvals_rejected', 'refusals', 'audit_reads'];
  const byAction = /** @type {Record<string, string>} */ ({ login: 'logins', live_view: 'live_views', playback: 'playbacks', search: 'searches', plate_query: 'plate_queries', export: 'exports', face_match: 'matches', 'face_match.confirm': 'confirmed_matches', 'face_match.reject': 'false_matches', 'plate_hit.record': 'plate_hits', 'plate_hit.confirm': 'confirmed_plate_hits', 'plate_hit.reject': 'false_plate_hits', 'approval.request': 'approvals_requested', 'approval.approve': 'approvals_granted', 'approval.reject': 'approvals_rejected', audit_read: 'audit_reads' });
  /** @type {Map<string, Record<string, number>>} */
  const months = new Map();
  for (const text of AUDIT) {
    const e = JSON.parse(text);
    const month = String(e.time).slice(0, 7);
    if (!months.has(month)) months.set(month, Object.fromEntries(keys.map((k) => [k, 0])));
    const m = /** @type {Record<string, number>} */ (months.get(month));
    if (e.result === 'denied') m['refusals'] = (m['refusals'] ?? 0) + 1;
    else if (e.result === 'ok' && byAction[e.action]) m[byAction[e.action] ?? ''] = (m[byAction[e.action] ?? ''] ?? 0) + 1;
  }
  const now = Date.now();
  const latest = latestCheckpointSize();
  sendJson(res, 200, {
    generated_ms: now,
    current: {
      cameras: CAMERAS.length,
      cameras_recording: CAMERAS.filter((c) => c.enabled).length,
      watchlist_entries: 0,
      face_authorisations_in_force: [...FACE_AUTHS.values()].filter((a) => inForce(now, a.start_ms, Math.min(a.end_ms, a.expires_ms), a.revoked_ms)).length,
      protected_assemblies_in_force: [...ASSEMBLIES.values()].filter((a) => inForce(now, a.start_ms, a.end_ms, a.revoked_ms)).length,
      legal_bases_in_force: [...LEGAL_BASES.values()].filter((b) => inForce(now, b.valid_from_ms, b.expires_ms, b.revoked_ms)).length,
      evidence_holds: [...HOLDS.values()].filter((x) => !x.released_ms).length,
      audit_entries: AUDIT.length,
    },
    checkpoint: latest === null ? null : { size: latest, note: CHECKPOINTS.get(latest) },
    months: [...months.entries()].sort(([a], [b]) => (a < b ? 1 : -1)).map(([month, m]) => ({ month, ...m })),
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
  clearTimeout(firstCheckpoint);
  if (checkpointTimer) clearInterval(checkpointTimer);
  clearInterval(eventTimer);
  clearInterval(plateTimer);
  clearInterval(heartbeatTimer);
  for (const s of streams) s.res.end();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
