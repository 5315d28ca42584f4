/**
 * The driver suite (spec/drivers/): real client libraries in child processes against real
 * servers on loopback, with and without the shim. Run with `npm run test:drivers`; needs the
 * servers from scripts/setup-servers.sh and a build (dist/lib/register.js).
 *
 * Environment: DRIVER_SUITE_T_MS (the shim's timeout T, default 1000; keep it under 2400, or
 * node-redis's and memcached's own 5 s connect timeouts end the no-shim rows before 2 × T),
 * DRIVER_SUITE_DEADLINE_MS (the whole-run watchdog, default 170000), DRIVER_SUITE_VERBOSE=1
 * (also print each error the clients received), DRIVER_SUITE_PG_BIN,
 * DRIVER_SUITE_REDIS_SERVER, DRIVER_SUITE_MEMCACHED, DRIVER_SUITE_MOSQUITTO, DRIVER_SUITE_MARIADBD,
 * DRIVER_SUITE_MARIADB_INSTALL_DB (server binaries other than Debian's), DRIVER_SUITE_SHIM (the
 * register.js to preload instead of this checkout's dist/lib/register.js).
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
