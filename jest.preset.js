// Shared Jest settings: SWC transpiles TypeScript with decorator metadata (Nest, TypeORM and
// code-first GraphQL need it); tsconfig path aliases map to library sources.
const { compilerOptions } = require('./tsconfig.base.json');
const path = require('node:path');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(__dirname, target);
}

module.exports = {
  testEnvironment: 'node',
  // NestJS 12 (and a few of Fastify's deps) ship ESM only; Node 20 can require() them but Jest's
  // module loader cannot, so those packages are transpiled to CommonJS like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|content-disposition|cookie|mercurius|quick-lru)/)'],
  transform: {
    '^.+\\.(ts|js|mjs)$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
