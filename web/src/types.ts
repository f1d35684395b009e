// Shapes of the Custos HTTP API (docs/api.md, docs/events.md). Readers ignore unknown keys.

export interface ApiErrorBody {
  error: { code: string; message: string };
}

export interface LoginAnswer {
  user: string;
  role: string;
  csrf_token: string;
  expires_ms: number;
}

export interface Me {
  user: string;
  role: string;
  kind: 'session' | 'api_token';
  permissions: string[];
  csrf_token?: string;
}

export interface LatLon {
  lat: number;
  lon: number;
}

export interface Camera {
  id: string;
  name: string;
  enabled: boolean;
  location: LatLon | null;
  url?: string;
  rtsp_transport?: string;
}

export interface RecordingHealth {
  mode: string;
  segments: number;
  bytes: number;
  packets_dropped: number;
}

export interface CameraHealth {
  camera: string;
  connected: boolean;
  fps: number;
  frames_dropped: number;
  reconnects: number;
  /** 0 or null: no frame yet. */
  last_frame_ms: number | null;
  last_error?: string;
  detect_frames_dropped?: number;
  recording?: RecordingHealth;
}

export interface Health {
  status: 'ok' | 'degraded';
  time_ms: number;
  cameras: CameraHealth[];
  disks: { name: string; total_bytes: number; free_bytes: number }[];
}

export type EventType =
  | 'track_start'
  | 'track_end'
  | 'zone_enter'
  | 'zone_leave'
  | 'line_cross'
  | 'loiter';

export const EVENT_TYPES: readonly EventType[] = [
  'track_start',
  'track_end',
  'zone_enter',
  'zone_leave',
  'line_cross',
  'loiter',
];

export interface CustosEvent {
  id: string;
  camera: string;
  time_ms: number;
  time?: string;
  type: string;
  label: string;
  track_id: number;
  score: number;
  box: [number, number, number, number];
  zone?: string;
  direction?: string;
  dwell_ms?: number;
  snapshot?: string;
}

export interface EventPage {
  events: CustosEvent[];
  next_after: string | null;
}

export interface Span {
  start_ms: number;
  end_ms: number;
}

export interface Recordings {
  camera: string;
  from_ms: number;
  to_ms: number;
  spans: Span[];
  segments: { id: string; start_ms: number; end_ms: number; bytes: number }[];
}

export interface CountBucket {
  start_ms: number;
  counts: Record<string, number>;
}

export interface Counts {
  type: string;
  bucket_ms: number;
  from_ms: number;
  to_ms: number;
  labels: string[];
  buckets: CountBucket[];
}

export interface User {
  username: string;
  role: string;
  disabled: boolean;
  created_ms: number;
}

export interface UiConfig {
  site_name: string;
  /** center is null when neither the configuration nor any camera location gives one. */
  map: { tile_url: string; attribution: string; center: [number, number] | null; zoom: number };
}

export const ROLES: readonly string[] = [
  'viewer',
  'operator',
  'investigator',
  'supervisor',
  'auditor',
  'admin',
];
