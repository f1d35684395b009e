// Shapes of the Custos HTTP API (docs/api.md, docs/events.md). Readers ignore unknown keys.

import type { PlateReaderHealth } from './plates';

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
  /** The plate reader's counters; null when no camera reads plates. */
  plates?: PlateReaderHealth | null;
}

export type EventType =
  | 'track_start'
  | 'track_end'
  | 'zone_enter'
  | 'zone_leave'
  | 'line_cross'
  | 'loiter'
  | 'wrong_way'
  | 'stopped_vehicle';

/** Types kept in the event store (GET /api/events); face_match and plate_hit are stream-only. */
export const EVENT_TYPES: readonly EventType[] = [
  'track_start',
  'track_end',
  'zone_enter',
  'zone_leave',
  'line_cross',
  'loiter',
  'wrong_way',
  'stopped_vehicle',
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
  /** face_match events (docs/events.md): the watchlist entry matched; the id is the match id. */
  watchlist_entry?: string;
  watchlist_label?: string;
  /** A face match or plate hit is a lead a person must verify, never a decision. */
  lead?: boolean;
  /** Vehicles on a calibrated camera (line_cross, wrong_way, track_end): advisory, never evidential. */
  speed_kmh?: number;
  speed_advisory?: boolean;
  /** plate_hit: the plate as read and the read's id (watchlist_* name the hotlist entry). */
  plate?: string;
  plate_read?: string;
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

// ---- Transparency (public, no login): /public/register.json, stats.json, checkpoint ----

export interface RegisterLegalBasis {
  reference: string;
  type: string;
  issuing_authority: string;
  acts: string[];
  expires_ms: number;
}

export interface RegisterCamera {
  id: string;
  name: string;
  enabled: boolean;
  location: LatLon | null;
  purpose: string | null;
  recording?: string;
  retention?: { video_hours: number; events_days: number; snapshots_days: number };
  legal_bases?: RegisterLegalBasis[];
  capabilities: {
    object_detection: boolean;
    /** Zone and line names (older servers: booleans). */
    zones: string[] | boolean;
    counting_lines: string[] | boolean;
    loitering_alerts: boolean;
    face_recognition: boolean;
    plate_recognition: boolean;
  };
}

export interface Register {
  operator: string | null;
  generated_ms: number;
  cameras: RegisterCamera[];
}

export interface StatsCurrent {
  cameras: number;
  cameras_recording: number;
  watchlist_entries: number;
  face_authorisations_in_force: number;
  protected_assemblies_in_force: number;
  legal_bases_in_force: number;
  evidence_holds: number;
  audit_entries: number;
}

export interface StatsMonth {
  month: string;
  logins: number;
  live_views: number;
  playbacks: number;
  searches: number;
  plate_queries: number;
  exports: number;
  deletions: number;
  matches: number;
  confirmed_matches: number;
  false_matches: number;
  plate_hits: number;
  confirmed_plate_hits: number;
  false_plate_hits: number;
  approvals_requested: number;
  approvals_granted: number;
  approvals_rejected: number;
  refusals: number;
  audit_reads: number;
}

export interface PublicStats {
  generated_ms: number;
  current: StatsCurrent;
  checkpoint: { size: number; note: string } | null;
  /** Newest first. */
  months: StatsMonth[];
}

export interface PublicCheckpoint {
  size: number;
  /** The signed note (C2SP tlog-checkpoint), as text. */
  checkpoint: string;
  verifier_key: string;
}

// ---- Policy records (GET /api/policy; src/policy/policy_json.cc) ----

export interface LegalBasis {
  reference: string;
  type: string;
  issuing_authority: string;
  scope: { description: string; cameras: string[]; acts: string[] };
  valid_from_ms: number;
  expires_ms: number;
  created_ms: number;
  created_by: string;
  revoked_ms: number;
  revoked_by: string;
  revoke_reason: string;
}

export interface FaceAuthorisation {
  id: string;
  name: string;
  legal_basis_ref: string;
  approval_id: string;
  all_cameras: boolean;
  cameras: string[];
  start_ms: number;
  end_ms: number;
  purpose: string;
  issuing_authority: string;
  expires_ms: number;
  created_ms: number;
  created_by: string;
  revoked_ms: number;
  revoked_by: string;
  revoke_reason: string;
}

export interface ProtectedAssembly {
  id: string;
  name: string;
  kind: string;
  targets: { camera: string; zone: string }[];
  area: { polygon: LatLon[]; circle_center?: LatLon; circle_radius_m?: number } | null;
  start_ms: number;
  end_ms: number;
  created_ms: number;
  created_by: string;
  revoked_ms: number;
  revoked_by: string;
  revoke_reason: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalRequest {
  id: string;
  kind: string;
  object_id: string;
  legal_basis_ref: string;
  camera: string;
  reason: string;
  requester: string;
  requester_user_id: number;
  created_ms: number;
  expires_ms: number;
  status: ApprovalStatus;
  decided_by: string;
  decided_ms: number;
  decision_reason: string;
}

export interface EvidenceHold {
  id: string;
  segment_ids: number[];
  camera: string;
  from_ms: number;
  to_ms: number;
  legal_basis_ref: string;
  case_reference: string;
  approval_id: string;
  segments: number[];
  placed_ms: number;
  placed_by: string;
  released_ms: number;
  released_by: string;
  release_reason: string;
}

export interface PolicyRecords {
  legal_bases: LegalBasis[];
  face_authorisations: FaceAuthorisation[];
  assemblies: ProtectedAssembly[];
  approvals: ApprovalRequest[];
  holds: EvidenceHold[];
}

// ---- Audit log (auditor): GET /api/audit/entries, /api/audit/proof ----

export interface AuditEntry {
  v?: number;
  time: string;
  actor: string;
  role: string;
  action: string;
  object: string;
  legal_basis: string;
  purpose: string;
  result: string;
  client: string;
  details?: unknown;
}

export interface AuditEntries {
  size: number;
  /** `entry` is null when the stored bytes are not JSON. */
  entries: { index: number; entry: AuditEntry | null }[];
}
