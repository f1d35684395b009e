// Live grid: one MJPEG <img> per camera; click a tile to enlarge it.

import { errorFromResponse, errorMessage } from '../api';
import { loadCameras, loadHealth, poll, type PageContext } from '../context';
import { append, h, setStatus, statusLine } from '../dom';
import { cameraStatus, healthByCamera, STATUS_TEXT, type CameraStatus } from '../status';
import type { Camera } from '../types';

const HEALTH_POLL_MS = 5000;
const STATUS_CLASSES: readonly CameraStatus[] = ['ok', 'stale', 'down', 'disabled', 'unknown'];

export function liveUrl(camera: string): string {
  return `/api/cameras/${encodeURIComponent(camera)}/live.mjpeg`;
}

interface Tile {
  camera: Camera;
  element: HTMLElement;
  img: HTMLImageElement;
  badge: HTMLElement;
  note: HTMLElement;
  /** The stream failed; it is reopened when health next reports the camera connected. */
  waiting: boolean;
}

export function renderLive(root: HTMLElement, _ctx: PageContext): () => void {
  const status = statusLine('info', 'Loading cameras…');
  const grid = h('div', { class: 'live-grid', role: 'list', 'aria-label': 'Live cameras' });
  append(root, h('h1', { id: 'page-title', text: 'Live view' }), h('p', { class: 'muted', text: 'Click a picture to enlarge it; Escape or click again to go back. Faces are not blurred yet: privacy masking for roles without clearance comes with the accountability work.' }), status, grid);

  const tiles: Tile[] = [];
  let stopped = false;
  let stopPolling = (): void => undefined;

  const enlarge = (tile: Tile | null): void => {
    for (const t of tiles) {
      const on = t === tile && !t.element.classList.contains('enlarged');
      t.element.classList.toggle('enlarged', on);
      t.element.querySelector('button')?.setAttribute('aria-pressed', String(on));
    }
    grid.classList.toggle('has-enlarged', tiles.some((t) => t.element.classList.contains('enlarged')));
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') {
      for (const t of tiles) t.element.classList.remove('enlarged');
      grid.classList.remove('has-enlarged');
    }
  };
  document.addEventListener('keydown', onKey);

  const explainFailure = async (tile: Tile): Promise<void> => {
    // An <img> does not expose the answer's status; ask for one still frame to learn why.
    try {
      const response = await fetch(`/api/cameras/${encodeURIComponent(tile.camera.id)}/live.jpg`, { credentials: 'same-origin' });
      tile.note.textContent = response.ok ? 'Stream interrupted; reconnecting…' : `No picture: ${(await errorFromResponse(response)).message}`;
    } catch (error) {
      tile.note.textContent = `No picture: ${errorMessage(error)}`;
    }
    // Retrying blindly would write a live-view access record every few seconds for a camera
    // that is down; the health poll reopens the stream once the camera is back.
    tile.waiting = true;
  };

  void (async () => {
    let cameras: Camera[];
    try {
      cameras = await loadCameras();
    } catch (error) {
      setStatus(status, 'error', `Cannot load cameras: ${errorMessage(error)}`);
      return;
    }
    if (stopped) return;
    setStatus(status, 'ok', `${cameras.length} cameras`);
    for (const camera of cameras) {
      const img = h('img', { alt: `${camera.name} live`, class: 'live-img', decoding: 'async' });
      const badge = h('span', { class: 'pill status-unknown', text: STATUS_TEXT.unknown });
      const note = h('span', { class: 'tile-note', role: 'status' });
      const button = h('button', { type: 'button', class: 'tile-button', 'aria-label': `Enlarge ${camera.name}`, 'aria-pressed': 'false' }, img);
      const element = h('figure', { class: 'live-tile', role: 'listitem', 'data-camera': camera.id }, button, h('figcaption', {}, h('span', { class: 'tile-name', text: camera.name }), badge, note));
      const tile: Tile = { camera, element, img, badge, note, waiting: false };
      button.addEventListener('click', () => enlarge(tile));
      img.addEventListener('load', () => {
        note.textContent = '';
        element.classList.add('has-picture');
      });
      img.addEventListener('error', () => {
        element.classList.remove('has-picture');
        if (!stopped && camera.enabled) void explainFailure(tile);
      });
      if (camera.enabled) img.src = liveUrl(camera.id);
      else note.textContent = 'Camera disabled';
      tiles.push(tile);
      grid.appendChild(element);
    }
    stopPolling = poll(async () => {
      try {
        const health = await loadHealth();
        const byCamera = healthByCamera(health);
        for (const tile of tiles) {
          const state = cameraStatus(tile.camera, byCamera.get(tile.camera.id), health.time_ms);
          for (const s of STATUS_CLASSES) tile.badge.classList.remove(`status-${s}`);
          tile.badge.classList.add(`status-${state}`);
          tile.badge.textContent = STATUS_TEXT[state];
          if (tile.waiting && state === 'ok' && !stopped) {
            tile.waiting = false;
            tile.note.textContent = 'Reconnecting…';
            tile.img.src = liveUrl(tile.camera.id);
          }
        }
      } catch {
        // The map page reports health failures; here the pictures speak for themselves.
      }
    }, HEALTH_POLL_MS);
  })();

  return () => {
    stopped = true;
    stopPolling();
    document.removeEventListener('keydown', onKey);
    for (const tile of tiles) {
      // Ends the multipart request: a live stream holds a server slot while it is open.
      tile.img.removeAttribute('src');
    }
  };
}
