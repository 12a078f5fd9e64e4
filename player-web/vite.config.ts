import { defineConfig } from 'vite';

// The catalog serves dist/ at `/` (with fallback to index.html), so assets live under /assets/.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: true,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `npm run dev` against a catalog on :8080 (LECTERN_API to override).
    proxy: {
      '/api': process.env.LECTERN_API ?? 'http://127.0.0.1:8080',
      '/media': process.env.LECTERN_API ?? 'http://127.0.0.1:8080',
    },
  },
});
