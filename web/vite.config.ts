/**
 * The console's production build (`npm run web:build`, scripts/web-build.ts):
 * served by the API under /console, every asset from this origin.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One bundle of React + Ant Design is the price of the first load; `npm run bench` is to report it.
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
});
