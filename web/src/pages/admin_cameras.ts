// Admin: the configured cameras (URLs redacted by the server) with their health.

import { errorMessage } from '../api';
import { loadCameras, loadHealth, poll, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { formatAge } from '../format';
import { cameraStatus, healthByCamera, STATUS_TEXT } from '../status';
import type { Camera, Health } from '../types';

export function renderAdminCameras(root: HTMLElement, _ctx: PageContext): () => void {
  const status = statusLine('info', 'Loading cameras…');
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'data', 'aria-label': 'Configured cameras' },
    h('thead', {}, h('tr', {}, ...['Id', 'Name', 'Enabled', 'URL (redacted)', 'RTSP transport', 'Location', 'Health', 'FPS', 'Last frame'].map((t) => h('th', { scope: 'col', text: t })))),
    body,
  );
  append(
    root,
    h('h1', { id: 'page-title', text: 'Cameras' }),
    h('p', { class: 'muted', text: 'Cameras come from the configuration file; passwords and tokens in their URLs are never shown.' }),
    status,
    table,
  );
  let cameras: Camera[] = [];
  const draw = (health: Health | null): void => {
    const byCamera = healthByCamera(health);
    const now = health?.time_ms ?? Date.now();
    clear(body);
    for (const c of cameras) {
      const ch = byCamera.get(c.id);
      const state = cameraStatus(c, ch, now);
      body.appendChild(
        h(
          'tr',
          { 'data-camera': c.id },
          h('td', {}, h('code', { text: c.id })),
          h('th', { scope: 'row', text: c.name }),
          h('td', { text: c.enabled ? 'yes' : 'no' }),
          h('td', { class: 'url' }, h('code', { text: c.url ?? '—' })),
          h('td', { text: c.rtsp_transport ?? '—' }),
          h('td', { text: c.location ? `${c.location.lat.toFixed(5)}, ${c.location.lon.toFixed(5)}` : 'none' }),
          h('td', {}, h('span', { class: `pill status-${state}`, text: STATUS_TEXT[state] })),
          h('td', { class: 'num', text: ch ? ch.fps.toFixed(1) : '–' }),
          h('td', { text: ch ? formatAge(ch.last_frame_ms, now) : '–' }),
        ),
      );
    }
  };
  let stop = (): void => undefined;
  let stopped = false;
  void loadCameras()
    .then((list) => {
      if (stopped) return;
      cameras = list;
      setStatus(status, 'ok', `${list.length} cameras configured`);
      draw(null);
      stop = poll(async () => {
        try {
          draw(await loadHealth());
        } catch (error) {
          setStatus(status, 'error', `Health unavailable: ${errorMessage(error)}`);
        }
      }, 5000);
    })
    .catch((error: unknown) => setStatus(status, 'error', errorMessage(error)));
  return () => {
    stopped = true;
    stop();
  };
}
