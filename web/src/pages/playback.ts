// Playback: a camera and a time range, the recording timeline, clip.mp4 in a <video>.

import { errorFromResponse, errorMessage, getJson, withQuery } from '../api';
import { loadCameras, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine, svg } from '../dom';
import { formatDuration, formatTime, fromLocalInput, toLocalInput } from '../format';
import { may } from '../nav';
import { clipAt, layoutSpans, recordedMs, tickLabel, timeTicks, timeToX, xToTime, type Scale } from '../timeline';
import type { Recordings, Span } from '../types';

const DEFAULT_RANGE_MS = 5 * 60_000;
const MAX_RANGE_MS = 7 * 24 * 3600_000;
const AXIS_H = 22;
const BAR_H = 28;

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
}

/**
 * The clip or export URL of a span. Exports need the case they are for (docs/api.md); recordings
 * older than 24 h need a legal basis in force.
 */
export function clipPath(
  kind: 'clip' | 'download',
  camera: string,
  span: Span,
  extra: { legalBasis?: string; caseRef?: string } = {},
): string {
  return withQuery(`/api/cameras/${encodeURIComponent(camera)}/${kind}.mp4`, {
    from: span.start_ms,
    to: span.end_ms,
    legal_basis: extra.legalBasis?.trim(),
    case: kind === 'download' ? extra.caseRef?.trim() : undefined,
  });
}

export function renderPlayback(root: HTMLElement, ctx: PageContext): () => void {
  const params = new URLSearchParams(window.location.search);
  const now = Date.now();
  const initialTo = Number(params.get('to')) || now;
  const initialFrom = Number(params.get('from')) || initialTo - DEFAULT_RANGE_MS;

  const camera = h('select', { name: 'camera', required: true });
  const from = h('input', { name: 'from', type: 'datetime-local', step: 1, value: toLocalInput(initialFrom), required: true });
  const to = h('input', { name: 'to', type: 'datetime-local', step: 1, value: toLocalInput(initialTo), required: true });
  const legalBasis = h('input', { name: 'legal_basis', type: 'text', placeholder: 'only for recordings older than 24 h' });
  const caseRef = h('input', { name: 'case', type: 'text', placeholder: 'e.g. 2026/1234', maxlength: 200 });
  const last5 = h('button', { type: 'button', class: 'secondary', text: 'Last 5 minutes' });
  const submit = h('button', { type: 'submit', text: 'Show recordings' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Playback range' },
    field('pb-camera', 'Camera', camera),
    field('pb-from', 'From', from),
    field('pb-to', 'To', to),
    field('pb-legal', 'Legal basis', legalBasis),
    h('div', { class: 'field actions' }, submit, last5),
  );
  const status = statusLine('info');
  const timelineBox = h('div', { class: 'timeline-box' });
  const video = h('video', { controls: true, preload: 'auto', playsinline: true, 'aria-label': 'Recorded video' });
  const nowPlaying = h('p', { class: 'muted', role: 'status' });
  const download = h('a', { class: 'button', download: '', hidden: true, text: 'Download this clip (MP4)' });
  const canExport = may(ctx.me, 'export');
  const exportBox = h(
    'div',
    { class: 'export-box' },
    field('pb-case', 'Case reference (for an export)', caseRef),
    h('p', { class: 'muted', text: 'Exports are blurred, watermarked with their export id and recorded in the audit log with their SHA-256.' }),
    download,
  );
  append(
    root,
    h('h1', { id: 'page-title', text: 'Playback' }),
    form,
    status,
    timelineBox,
    h('div', { class: 'player' }, video, h('div', { class: 'player-bar' }, nowPlaying, canExport ? exportBox : null)),
  );

  let recordings: Recordings | null = null;
  let scale: Scale | null = null;
  let clip: Span | null = null;
  let playhead: SVGLineElement | null = null;
  let stopped = false;

  const play = (span: Span): void => {
    if (!recordings) return;
    clip = span;
    video.src = clipPath('clip', recordings.camera, span, { legalBasis: legalBasis.value });
    video.load();
    void video.play().catch(() => undefined);
    nowPlaying.textContent = `Playing ${formatTime(span.start_ms)} – ${formatTime(span.end_ms, false)} (${formatDuration(span.end_ms - span.start_ms)})`;
    updateDownload();
  };

  // The export link appears once the clip and the case it is for are known.
  const updateDownload = (): void => {
    if (!canExport || !recordings || !clip) return;
    const ref = caseRef.value.trim();
    download.hidden = ref === '';
    if (ref === '') return;
    download.href = clipPath('download', recordings.camera, clip, { legalBasis: legalBasis.value, caseRef: ref });
    download.setAttribute('aria-label', `Download the clip from ${formatTime(clip.start_ms)} to ${formatTime(clip.end_ms, false)} for case ${ref}`);
  };
  caseRef.addEventListener('input', updateDownload);

  const playAt = (time_ms: number): void => {
    if (!recordings || !scale) return;
    const span = clipAt(recordings.spans, time_ms, scale.to_ms);
    if (!span) {
      setStatus(status, 'info', `Nothing recorded at or after ${formatTime(time_ms)} in this range.`);
      return;
    }
    play(span);
  };

  const drawTimeline = (): void => {
    clear(timelineBox);
    if (!recordings || !scale) return;
    const width = scale.width_px;
    const height = AXIS_H + BAR_H + 8;
    const chart = svg('svg', {
      class: 'timeline',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'button',
      tabindex: 0,
      'aria-label': 'Recording timeline: click a time to play from there; Enter plays the first recording',
    });
    chart.appendChild(svg('rect', { class: 'timeline-bg', x: 0, y: 0, width, height: BAR_H }));
    for (const bar of layoutSpans(recordings.spans, scale)) {
      chart.appendChild(
        svg('rect', { class: 'timeline-span', x: bar.x_px, y: 2, width: bar.width_px, height: BAR_H - 4 },
          svg('title', {}, `Recorded ${formatTime(bar.start_ms)} – ${formatTime(bar.end_ms, false)}`)),
      );
    }
    const { step_ms, ticks } = timeTicks(scale.from_ms, scale.to_ms, Math.max(2, Math.floor(width / 90)), -new Date(scale.from_ms).getTimezoneOffset() * 60_000);
    for (const t of ticks) {
      const x = timeToX(scale, t);
      chart.appendChild(svg('line', { class: 'tick', x1: x, x2: x, y1: BAR_H, y2: BAR_H + 5 }));
      chart.appendChild(svg('text', { class: 'tick-label', x, y: BAR_H + AXIS_H - 4, 'text-anchor': 'middle' }, tickLabel(t, step_ms)));
    }
    playhead = svg('line', { class: 'playhead', x1: -10, x2: -10, y1: 0, y2: BAR_H });
    chart.appendChild(playhead);
    chart.addEventListener('click', (event: MouseEvent) => {
      if (!scale) return;
      const box = chart.getBoundingClientRect();
      const x = ((event.clientX - box.left) / box.width) * width;
      playAt(xToTime(scale, x));
    });
    chart.addEventListener('keydown', (event: KeyboardEvent) => {
      if ((event.key === 'Enter' || event.key === ' ') && scale) {
        event.preventDefault();
        playAt(scale.from_ms);
      }
    });
    timelineBox.appendChild(chart);
    const total = recordedMs(recordings.spans, scale);
    timelineBox.appendChild(h('p', { class: 'muted small', text: `${formatDuration(total)} recorded in ${formatDuration(scale.to_ms - scale.from_ms)} (${recordings.spans.length} span${recordings.spans.length === 1 ? '' : 's'})` }));
  };

  video.addEventListener('timeupdate', () => {
    if (!clip || !scale || !playhead) return;
    // The clip starts at the keyframe at or before `from`; currentTime is close enough here.
    const x = timeToX(scale, clip.start_ms + video.currentTime * 1000);
    playhead.setAttribute('x1', String(x));
    playhead.setAttribute('x2', String(x));
  });
  video.addEventListener('error', () => {
    if (!video.currentSrc || stopped) return;
    // The element hides the answer; ask again for one byte to show the server's message.
    void fetch(video.currentSrc, { headers: { Range: 'bytes=0-0' }, credentials: 'same-origin' })
      .then(async (response) => {
        setStatus(status, 'error', response.ok ? 'The browser cannot play this video (codec not supported?).' : `Cannot play: ${(await errorFromResponse(response)).message}`);
      })
      .catch((error: unknown) => setStatus(status, 'error', `Cannot play: ${errorMessage(error)}`));
  });

  const load = async (): Promise<void> => {
    const fromMs = fromLocalInput(from.value);
    const toMs = fromLocalInput(to.value);
    if (!camera.value) {
      setStatus(status, 'error', 'Choose a camera.');
      return;
    }
    if (fromMs === null || toMs === null || toMs <= fromMs) {
      setStatus(status, 'error', 'Give a time range whose end is after its start.');
      return;
    }
    if (toMs - fromMs > MAX_RANGE_MS) {
      setStatus(status, 'error', 'The range may span at most 7 days.');
      return;
    }
    setStatus(status, 'info', 'Loading recordings…');
    try {
      recordings = await getJson<Recordings>(`/api/cameras/${encodeURIComponent(camera.value)}/recordings`, { from: fromMs, to: toMs });
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
      return;
    }
    if (stopped) return;
    scale = { from_ms: recordings.from_ms, to_ms: recordings.to_ms, width_px: Math.max(320, Math.floor(timelineBox.clientWidth || 800)) };
    window.history.replaceState(null, '', withQuery('/playback', { camera: camera.value, from: fromMs, to: toMs }));
    setStatus(status, 'ok', recordings.spans.length ? 'Click the timeline to play from that moment.' : 'Nothing was recorded in this range.');
    drawTimeline();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  last5.addEventListener('click', () => {
    const end = Date.now();
    from.value = toLocalInput(end - DEFAULT_RANGE_MS);
    to.value = toLocalInput(end);
    void load();
  });

  void loadCameras()
    .then((cameras) => {
      for (const c of cameras) camera.appendChild(h('option', { value: c.id, text: c.name }));
      const wanted = params.get('camera');
      if (wanted && cameras.some((c) => c.id === wanted)) camera.value = wanted;
      if (cameras.length) void load();
      else setStatus(status, 'info', 'No cameras are configured.');
    })
    .catch((error: unknown) => setStatus(status, 'error', `Cannot load cameras: ${errorMessage(error)}`));

  return () => {
    stopped = true;
    video.pause();
    video.removeAttribute('src');
    video.load();
  };
}
