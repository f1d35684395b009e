// Camera map (Leaflet) and camera list with health, polled every 5 s.

import L from 'leaflet';
import { errorMessage } from '../api';
import { loadCameras, loadHealth, poll, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { formatAge, formatBytes } from '../format';
import { cameraStatus, healthByCamera, STATUS_TEXT, type CameraStatus } from '../status';
import type { Camera, Health } from '../types';

const HEALTH_POLL_MS = 5000;
const STATUS_CLASSES: readonly CameraStatus[] = ['ok', 'stale', 'down', 'disabled', 'unknown'];

export function renderMap(root: HTMLElement, ctx: PageContext): () => void {
  const status = statusLine('info', 'Loading cameras…');
  const mapBox = h('div', { class: 'map', id: 'camera-map', role: 'region', 'aria-label': 'Camera map' });
  const summary = h('p', { class: 'health-summary', role: 'status' });
  const tableBody = h('tbody');
  const table = h(
    'table',
    { class: 'data', 'aria-label': 'Cameras and their health' },
    h('thead', {}, h('tr', {}, ...['Camera', 'Status', 'FPS', 'Dropped frames', 'Reconnects', 'Recording', 'Last frame'].map((t) => h('th', { scope: 'col', text: t })))),
    tableBody,
  );
  const noLocation = h('p', { class: 'muted' });
  append(
    root,
    h('h1', { id: 'page-title', text: 'Camera map' }),
    status,
    h('div', { class: 'map-layout' }, mapBox, h('div', { class: 'camera-list' }, h('h2', { text: 'Cameras' }), summary, table, noLocation)),
  );

  const { tile_url, attribution, center, zoom } = ctx.ui.map;
  const map = L.map(mapBox, { center: center ?? [0, 0], zoom: center ? zoom : 2, zoomControl: true, attributionControl: tile_url !== '' });
  if (tile_url) {
    L.tileLayer(tile_url, { attribution, maxZoom: 19 }).addTo(map);
  } else {
    mapBox.classList.add('map-offline');
  }

  const markers = new Map<string, L.CircleMarker>();
  let cameras: Camera[] = [];
  let stopped = false;

  const updateStatus = (health: Health | null): void => {
    const byCamera = healthByCamera(health);
    const now = health?.time_ms ?? Date.now();
    clear(tableBody);
    for (const camera of cameras) {
      const h1 = byCamera.get(camera.id);
      const state = cameraStatus(camera, h1, now);
      const marker = markers.get(camera.id);
      const path = marker?.getElement();
      if (path) {
        for (const s of STATUS_CLASSES) path.classList.remove(`status-${s}`);
        path.classList.add(`status-${state}`);
        path.setAttribute('aria-label', `${camera.name}: ${STATUS_TEXT[state]}`);
      }
      const rec = h1?.recording;
      tableBody.appendChild(
        h(
          'tr',
          { 'data-camera': camera.id },
          h('th', { scope: 'row' }, camera.name, h('span', { class: 'muted small', text: ` ${camera.id}` }), h1?.last_error ? h('div', { class: 'small error-text', text: h1.last_error }) : null),
          h('td', {}, h('span', { class: `pill status-${state}`, text: STATUS_TEXT[state] })),
          h('td', { class: 'num', text: h1 ? h1.fps.toFixed(1) : '–' }),
          h('td', { class: 'num', text: h1 ? String(h1.frames_dropped + (h1.detect_frames_dropped ?? 0)) : '–', title: h1 ? `ingest ${h1.frames_dropped}, detect ${h1.detect_frames_dropped ?? 0}` : undefined }),
          h('td', { class: 'num', text: h1 ? String(h1.reconnects) : '–' }),
          h('td', { text: rec ? `${rec.mode}, ${rec.segments} segments, ${formatBytes(rec.bytes)}${rec.packets_dropped ? `, ${rec.packets_dropped} packets dropped` : ''}` : '–' }),
          h('td', { text: h1 ? formatAge(h1.last_frame_ms, now) : '–' }),
        ),
      );
    }
    if (health) {
      const down = cameras.filter((c) => cameraStatus(c, byCamera.get(c.id), now) !== 'ok' && c.enabled).length;
      summary.className = `health-summary ${health.status}`;
      summary.textContent =
        health.status === 'ok' ? `All ${cameras.length} cameras OK` : `Degraded: ${down} of ${cameras.length} cameras need attention`;
    }
  };

  const stopPolling = { fn: (): void => undefined };
  void (async () => {
    try {
      cameras = await loadCameras();
    } catch (error) {
      setStatus(status, 'error', `Cannot load cameras: ${errorMessage(error)}`);
      return;
    }
    if (stopped) return;
    const located = cameras.filter((c) => c.location !== null);
    for (const camera of located) {
      const location = camera.location;
      if (!location) continue;
      const marker = L.circleMarker([location.lat, location.lon], {
        radius: 9,
        weight: 2,
        className: 'camera-marker status-unknown',
        fillOpacity: 0.9,
      });
      marker.bindTooltip(h('span', { text: camera.name }), { direction: 'top', offset: [0, -8] });
      marker.addTo(map);
      marker.getElement()?.setAttribute('data-camera', camera.id);
      markers.set(camera.id, marker);
    }
    if (located.length === 1 && located[0]?.location) {
      map.setView([located[0].location.lat, located[0].location.lon], Math.max(zoom, 15), { animate: false });
    } else if (located.length > 1) {
      const bounds = L.latLngBounds(located.map((c) => [c.location?.lat ?? 0, c.location?.lon ?? 0] as [number, number]));
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17, animate: false });
    }
    const missing = cameras.length - located.length;
    noLocation.textContent = missing > 0 ? `${missing} camera(s) have no location in the configuration and are not on the map.` : '';
    setStatus(status, 'ok', `${cameras.length} cameras, ${located.length} on the map`);
    root.setAttribute('data-markers', String(markers.size));
    updateStatus(null);
    stopPolling.fn = poll(async () => {
      try {
        updateStatus(await loadHealth());
      } catch (error) {
        summary.className = 'health-summary degraded';
        summary.textContent = `Health unavailable: ${errorMessage(error)}`;
      }
    }, HEALTH_POLL_MS);
  })();
  // The container has its size only once it is in the document.
  const resize = window.setTimeout(() => map.invalidateSize(), 0);

  return () => {
    stopped = true;
    window.clearTimeout(resize);
    stopPolling.fn();
    // Leaving during a zoom animation must not leave Leaflet a frame callback on a removed map.
    map.stop();
    map.remove();
  };
}
