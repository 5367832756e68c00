module.exports = { ...require('../../../jest.preset.js'), displayName: 'agent-drivers', rootDir: __dirname };
