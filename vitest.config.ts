import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Integration tests share one real Redis; each file uses its own key prefix (test/helpers/redis.ts).
    fileParallelism: true,
    maxWorkers: 2,
  },
});
