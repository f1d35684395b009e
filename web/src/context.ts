// What every page is given, and the shared camera/health loaders.

import { getJson } from './api';
import type { Camera, Health, Me, UiConfig } from './types';

export interface PageContext {
  me: Me;
  ui: UiConfig;
  navigate: (path: string) => void;
}

/** Stops what a page started (timers, streams) when the user leaves it. */
export type Cleanup = () => void;

export type PageRenderer = (root: HTMLElement, ctx: PageContext) => Cleanup | void;

export async function loadCameras(): Promise<Camera[]> {
  return (await getJson<{ cameras: Camera[] }>('/api/cameras')).cameras;
}

export function loadHealth(): Promise<Health> {
  return getJson<Health>('/api/health');
}

/**
 * Runs `task` now and then every `interval_ms` after the previous run finished, until the
 * returned function is called.
 */
export function poll(task: () => Promise<void>, interval_ms: number): Cleanup {
  let stopped = false;
  let timer: number | undefined;
  const run = async (): Promise<void> => {
    try {
      await task();
    } finally {
      if (!stopped) timer = window.setTimeout(() => void run(), interval_ms);
    }
  };
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
