import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/ferretdb-global-setup.ts', 'test/support/qdrant-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here and in CI: more workers only contend.
    maxWorkers: 2,
  },
});
