module.exports = { ...require('../../../jest.preset.js'), displayName: 'enrollment', rootDir: __dirname };
