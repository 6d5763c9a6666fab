import { defineConfig } from 'vite';

// Paths from this file, so the build is the same whichever folder it is started from.
const here = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root: here,
  // The hub serves the build at /board/ (server/board.ts).
  base: '/board/',
  build: {
    outDir: `${here}../dist/board`,
    emptyOutDir: true,
    target: 'es2022',
    // The board is small; one script and one stylesheet load fastest.
    chunkSizeWarningLimit: 200,
  },
  logLevel: 'warn',
});
