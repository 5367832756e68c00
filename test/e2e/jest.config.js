// End-to-end: real api, worker and agent processes, real PostgreSQL, Redis, NATS and haproxy.
module.exports = { ...require('../../jest.preset.js'), displayName: 'e2e', rootDir: __dirname, testTimeout: 180_000 };
