/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  // spec/drivers/ is the driver suite, with its own config (jest.drivers.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/spec/drivers/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  // Socket tests run real loopback servers and child processes: two workers on a 2-core machine.
  maxWorkers: 2,
  testTimeout: 20000,
};
