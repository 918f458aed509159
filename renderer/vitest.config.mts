// Component and store tests of the renderer: jsdom, React, the files under renderer/test/.
// Kept apart from the root `node --test` suite, which compiles only plain-Node TypeScript.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.{ts,tsx}'],
    // Two shared cores: one worker keeps the suite from starving everyone else's builds.
    pool: 'threads',
    maxWorkers: 1,
    // Renders wait on debounced host checks; a loaded CI machine needs more than the 5 s default.
    testTimeout: 20_000,
  },
});
