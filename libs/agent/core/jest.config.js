module.exports = { ...require('../../../jest.preset.js'), displayName: 'agent-core', rootDir: __dirname };
