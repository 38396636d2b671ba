import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast; integration tests drive the real Docker engine, git and Redis, so they
// get long timeouts and run one file at a time (the machine has 2 cores and the tests share one engine).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          exclude: ['packages/*/src/**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
          restoreMocks: true,
          unstubEnvs: true,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          unstubEnvs: true,
        },
      },
    ],
  },
});
