import { defineConfig } from 'vitest/config';

// One vitest run covers every workspace. `@fluxq/source` makes `@fluxq/*` imports
// resolve to TypeScript sources, so tests need no build step.
export default defineConfig({
  resolve: { conditions: ['@fluxq/source'] },
  ssr: { resolve: { conditions: ['@fluxq/source'], externalConditions: ['@fluxq/source'] } },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
