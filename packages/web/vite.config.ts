/** Vite build of the console into dist/, which the server serves at `/`. */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run build -w @canopy/web` runs under the repo's pinned Node 24 (node_modules/.bin comes first on PATH).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // antd is one large chunk by nature; splitting it further buys nothing for an internal console.
    chunkSizeWarningLimit: 2500,
  },
  server: {
    // `npm run dev -w @canopy/web` proxies the API to a server started with `npm run dev`.
    proxy: { '/api': 'http://127.0.0.1:7070' },
  },
});
