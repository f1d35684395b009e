// Formatting of times, durations and sizes for people (local time zone).

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function formatTime(ms: number, withDate = true): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (!withDate) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Value for <input type="datetime-local" step="1"> in local time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

/** UTC ms of a datetime-local value (local time), or null when empty or invalid. */
export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${pad(s % 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${pad(m % 60)} min`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatAge(ms: number | null, now_ms: number): string {
  if (!ms) return 'never';
  const age = Math.max(0, now_ms - ms);
  return age < 1500 ? 'now' : `${formatDuration(age)} ago`;
}

export function eventTypeText(type: string): string {
  return type.replace(/_/g, ' ');
}

/** Speeds come from a camera's ground calibration: a hint for people, never evidence. */
export const SPEED_ADVISORY_TEXT = 'Speeds are advisory estimates from the camera calibration, never evidence.';

/** "52 km/h (advisory)"; "—" when there is no speed (0, null: not measured). */
export function formatSpeed(kmh: number | null | undefined): string {
  if (kmh === null || kmh === undefined || !(kmh > 0)) return '—';
  return `${Math.round(kmh)} km/h (advisory)`;
}

/** What an event's fields say, for one line under its title: zone, direction, dwell, speed, score. */
export function eventDetails(event: {
  type: string;
  zone?: string;
  direction?: string;
  dwell_ms?: number;
  speed_kmh?: number;
  score: number;
  track_id: number;
}): string {
  const zoneWord: Record<string, string> = { wrong_way: 'lane', line_cross: 'line' };
  const parts = [
    event.zone ? `${zoneWord[event.type] ?? 'zone'} ${event.zone}` : '',
    event.direction ? `direction ${event.direction}` : '',
    event.type === 'stopped_vehicle' && event.dwell_ms ? `stopped for ${formatDuration(event.dwell_ms)}` : '',
    event.speed_kmh ? `speed ${formatSpeed(event.speed_kmh)}` : '',
    `score ${event.score.toFixed(2)}`,
    `track ${event.track_id}`,
  ];
  return parts.filter(Boolean).join(' · ');
}
