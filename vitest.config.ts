import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // two test files at a time (vitest's default is one less than the cores: one, here): most of a test's time is
    // mvm processes starting and waiting on the disk, so two files share the two cores well
    maxWorkers: 2,
    // the tests load the pinned AWS SDK directly; its notice about later releases needing Node 22 is not a test result
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
