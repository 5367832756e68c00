// The whole suite: every project's own jest.config.js under apps/ and libs/.
module.exports = {
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/libs/*/*/jest.config.js',
    '<rootDir>/test/*/jest.config.js',
    '<rootDir>/tools/*/jest.config.js',
  ],
};
