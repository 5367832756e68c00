// End-to-end: real api, worker and agent processes, real PostgreSQL, Redis, NATS and haproxy.
// `*.long.e2e.spec.ts` are the long lab scenarios (remediation, scale-out: ~20 min together): they
// run only with TRIAD_LONG_TESTS=1 (`bash tools/test.sh --long`, which CI runs), so the default
// suite stays well under 30 minutes.
const long = process.env.TRIAD_LONG_TESTS === '1';
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'e2e',
  rootDir: __dirname,
  testTimeout: 180_000,
  testPathIgnorePatterns: ['/node_modules/', ...(long ? [] : ['\\.long\\.e2e\\.spec\\.ts$'])],
};
