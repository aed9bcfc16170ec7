import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The build goes straight into the Go package that embeds it, so `go run ./cmd/wcpd serve` serves
// the UI with no build step of its own; CI rebuilds and fails when the committed files differ.
// `npm run dev` serves the sources with hot reload and sends API calls to a running wcpd
// (WCPD_URL, default https://127.0.0.1:8443).
const target = process.env.WCPD_URL || 'https://127.0.0.1:8443';

export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: '../internal/ui/dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      '/api': { target, secure: false, changeOrigin: true },
    },
  },
});
