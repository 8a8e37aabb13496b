import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Served under /ui/ (locally by the runtime, on AWS from S3 behind CloudFront).
export default defineConfig({
  base: '/ui/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
})
