import { defineConfig } from 'vitest/config';

// `npm run dev` serves the UI with hot reload and forwards the API to a Custos server (or the
// mock in dev/mock-server.mjs): CUSTOS_URL=http://127.0.0.1:8080 npm run dev
const target = process.env['CUSTOS_URL'] ?? 'http://127.0.0.1:8787';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // No inline <script> or data: module preload: the server's CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': { target, changeOrigin: false },
      '/public': { target, changeOrigin: false },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
