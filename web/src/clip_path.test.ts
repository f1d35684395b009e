import { describe, expect, it } from 'vitest';
import { clipPath } from './pages/playback';

describe('clipPath', () => {
  const span = { start_ms: 1000, end_ms: 2000 };
  it('plays a clip without a case', () => {
    expect(clipPath('clip', 'gate', span)).toBe('/api/cameras/gate/clip.mp4?from=1000&to=2000');
  });
  it('adds the legal basis for old recordings and the case for exports', () => {
    expect(clipPath('download', 'gate', span, { caseRef: ' 2026/7 ', legalBasis: 'Order 1' })).toBe(
      '/api/cameras/gate/download.mp4?from=1000&to=2000&legal_basis=Order+1&case=2026%2F7',
    );
    expect(clipPath('clip', 'gate', span, { caseRef: 'x' })).toBe('/api/cameras/gate/clip.mp4?from=1000&to=2000');
  });
});
