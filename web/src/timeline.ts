// Time axis and recording-span layout for the playback timeline. Pure: no DOM.

import type { Span } from './types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Tick steps a time axis may use, smallest first. */
export const TICK_STEPS_MS: readonly number[] = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY,
];

export interface Scale {
  from_ms: number;
  to_ms: number;
  width_px: number;
}

export function timeToX(scale: Scale, time_ms: number): number {
  const span = scale.to_ms - scale.from_ms;
  if (span <= 0) return 0;
  return ((time_ms - scale.from_ms) / span) * scale.width_px;
}

/** The time under x, clamped to the scale's range. */
export function xToTime(scale: Scale, x_px: number): number {
  const clamped = Math.min(Math.max(x_px, 0), scale.width_px);
  if (scale.width_px <= 0) return scale.from_ms;
  return Math.round(scale.from_ms + (clamped / scale.width_px) * (scale.to_ms - scale.from_ms));
}

/**
 * Tick times for an axis over [from, to): the smallest step that gives at most `max_ticks`
 * ticks, aligned to multiples of the step in local time (`tz_offset_ms` east of UTC).
 */
export function timeTicks(
  from_ms: number,
  to_ms: number,
  max_ticks: number,
  tz_offset_ms = 0,
): { step_ms: number; ticks: number[] } {
  if (to_ms <= from_ms || max_ticks < 1) return { step_ms: 0, ticks: [] };
  const range = to_ms - from_ms;
  const step =
    TICK_STEPS_MS.find((s) => range / s <= max_ticks) ??
    Math.ceil(range / max_ticks / DAY) * DAY;
  const first = Math.ceil((from_ms + tz_offset_ms) / step) * step - tz_offset_ms;
  const ticks: number[] = [];
  for (let t = first; t < to_ms; t += step) ticks.push(t);
  return { step_ms: step, ticks };
}

export interface Bar {
  x_px: number;
  width_px: number;
  start_ms: number;
  end_ms: number;
}

/**
 * Bars for the recording spans that overlap the scale, clipped to it, in time order. A span
 * narrower than `min_width_px` still gets that width so that short recordings stay visible.
 */
export function layoutSpans(spans: readonly Span[], scale: Scale, min_width_px = 1): Bar[] {
  return spans
    .filter((s) => s.end_ms > scale.from_ms && s.start_ms < scale.to_ms && s.end_ms > s.start_ms)
    .map((s) => {
      const start_ms = Math.max(s.start_ms, scale.from_ms);
      const end_ms = Math.min(s.end_ms, scale.to_ms);
      const x = timeToX(scale, start_ms);
      const width = Math.max(timeToX(scale, end_ms) - x, min_width_px);
      return { x_px: x, width_px: width, start_ms, end_ms };
    })
    .sort((a, b) => a.start_ms - b.start_ms);
}

/** Total recorded time inside the scale's range. */
export function recordedMs(spans: readonly Span[], scale: Scale): number {
  return layoutSpans(spans, scale, 0).reduce((sum, bar) => sum + (bar.end_ms - bar.start_ms), 0);
}

export const MAX_CLIP_MS = HOUR;

/**
 * What to play when the timeline is clicked at `time_ms`: from there (or from the start of the
 * next recording when the click fell in a gap) to the end of that recording, the end of the
 * selected range or one hour (the API's limit), whichever is first. Null: nothing recorded at
 * or after the click within the range.
 */
export function clipAt(
  spans: readonly Span[],
  time_ms: number,
  range_to_ms: number,
  max_ms = MAX_CLIP_MS,
): Span | null {
  const sorted = [...spans].sort((a, b) => a.start_ms - b.start_ms);
  const span = sorted.find((s) => s.end_ms > time_ms && s.start_ms < range_to_ms);
  if (!span) return null;
  const start_ms = Math.max(time_ms, span.start_ms);
  const end_ms = Math.min(span.end_ms, range_to_ms, start_ms + max_ms);
  if (end_ms <= start_ms) return null;
  return { start_ms, end_ms };
}

/** Label of a tick: seconds shown only when the step is below a minute; date at midnight. */
export function tickLabel(time_ms: number, step_ms: number, date: Date = new Date(time_ms)): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (step_ms < MINUTE) return `${hm}:${pad(date.getSeconds())}`;
  if (step_ms >= DAY || (date.getHours() === 0 && date.getMinutes() === 0)) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }
  return hm;
}
