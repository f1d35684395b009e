import { describe, expect, it } from 'vitest';
import { cameraStatus } from './status';
import type { CameraHealth } from './types';

const health = (over: Partial<CameraHealth>): CameraHealth => ({ camera: 'c', connected: true, fps: 10, frames_dropped: 0, reconnects: 0, last_frame_ms: 1000, ...over });

describe('cameraStatus', () => {
  it('tells disabled, unknown, down, stale and ok apart', () => {
    expect(cameraStatus({ enabled: false }, health({}), 1000)).toBe('disabled');
    expect(cameraStatus({ enabled: true }, undefined, 1000)).toBe('unknown');
    expect(cameraStatus({ enabled: true }, health({ connected: false }), 1000)).toBe('down');
    expect(cameraStatus({ enabled: true }, health({ last_frame_ms: 1000 }), 20_000)).toBe('stale');
    expect(cameraStatus({ enabled: true }, health({ last_frame_ms: 1000 }), 5000)).toBe('ok');
    expect(cameraStatus({ enabled: true }, health({ last_frame_ms: null }), 5000)).toBe('ok');
  });
});
