import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import vuetify from 'vite-plugin-vuetify'

/** Where `npm run dev` sends `/api/v1` (REST and the websocket). */
const apiTarget = process.env.BALSAM_API_TARGET ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue(), vuetify({ autoImport: true })],
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  build: {
    // The one chunk above Vite's 500 kB default is ECharts (~170 kB gzipped), loaded only
    // when the dashboard's throughput chart renders.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api/v1': { target: apiTarget, changeOrigin: true, ws: true },
    },
  },
  preview: {
    proxy: {
      '/api/v1': { target: apiTarget, changeOrigin: true, ws: true },
    },
  },
})
