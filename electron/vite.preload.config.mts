// Bundles electron/preload.ts into one CommonJS file, dist/electron/preload.js, with shared/ inlined
// and only 'electron' left as a require: the form a sandboxed preload can load (see preload.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: projectRoot,
  publicDir: false,
  build: {
    outDir: 'dist/electron',
    // tsc writes main.js and host/ into the same folder.
    emptyOutDir: false,
    // Kept readable: it is a few lines, loaded from disk, never downloaded.
    minify: false,
    lib: {
      entry: 'electron/preload.ts',
      formats: ['cjs'],
      fileName: () => 'preload.js',
    },
    rolldownOptions: {
      external: ['electron'],
    },
  },
});
