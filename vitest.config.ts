import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The scale runs take minutes of both cores: .ci/run runs them on their own after the rest
    // (npm run test:scale), where nothing else competes for the machine.
    // So does the local twin's training loop (npm run test:twin-loop).
    exclude: [
      'node_modules/**',
      ...(process.env.TWIN_SCALE_TESTS === '1' ? [] : ['test/scale/**']),
      ...(process.env.TWIN_LOOP_TESTS === '1' ? [] : ['test/local-twin/**']),
    ],
    globalSetup: ['test/support/ferretdb-global-setup.ts', 'test/support/qdrant-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here and in CI: more workers only contend.
    maxWorkers: 2,
  },
});
