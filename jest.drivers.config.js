/**
 * The driver suite (spec/drivers/): real client libraries in child processes against real
 * servers on loopback, with and without the shim. Run with `npm run test:drivers`; needs the
 * servers from scripts/setup-servers.sh and a build (dist/lib/register.js).
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec/drivers'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  globalSetup: '<rootDir>/spec/drivers/support/global-setup.ts',
  globalTeardown: '<rootDir>/spec/drivers/support/global-teardown.ts',
  // Each file runs its clients two at a time: two files at once fill the 2 cores.
  maxWorkers: 2,
  testTimeout: 60000,
};
