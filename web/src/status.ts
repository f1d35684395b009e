// A camera's status for colours and labels, from GET /api/cameras and GET /api/health. Pure.

import type { Camera, CameraHealth, Health } from './types';

export type CameraStatus = 'ok' | 'stale' | 'down' | 'disabled' | 'unknown';

/** A connected camera whose last frame is older than this is shown as stale. */
export const STALE_AFTER_MS = 10_000;

export function cameraStatus(
  camera: Pick<Camera, 'enabled'>,
  health: CameraHealth | undefined,
  now_ms: number,
): CameraStatus {
  if (!camera.enabled) return 'disabled';
  if (!health) return 'unknown';
  if (!health.connected) return 'down';
  if (health.last_frame_ms && now_ms - health.last_frame_ms > STALE_AFTER_MS) return 'stale';
  return 'ok';
}

export const STATUS_TEXT: Record<CameraStatus, string> = {
  ok: 'Connected',
  stale: 'No recent frames',
  down: 'Disconnected',
  disabled: 'Disabled',
  unknown: 'No health data',
};

export function healthByCamera(health: Health | null): Map<string, CameraHealth> {
  return new Map((health?.cameras ?? []).map((c) => [c.camera, c]));
}
