import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/tmp/**', '**/generated/**', '.nx/**', 'migrations/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Shared libraries (spec, renderers, protocol) are pure: they import only each other.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            // The agent never imports control-plane code, and vice versa.
            { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:agent', 'scope:shared'] },
            { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:server', 'scope:shared'] },
  // The lab tool (tools/lab) drives the real HA software with the shared spec and renderers.
  { sourceTag: 'scope:lab', onlyDependOnLibsWithTags: ['scope:shared'] },
            // Libraries never import apps. Test helpers (type:testing) are kept out of library code by
            // no-restricted-imports below, not here: this check is transitive through the project graph,
            // which counts a library's own tests, so one lib test using @triad/testing would flag every importer.
            // End-to-end tests drive the system from outside: processes, GraphQL, NATS; no server or agent internals.
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration once, in the app config loader (zod).' },
      ],
    },
  },
  {
    // Config loaders and tests are where the environment is read.
    files: ['**/*.config.ts', '**/config.ts', '**/*.spec.ts', '**/*.test.ts', 'tools/**/*.ts', 'libs/testing/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.test.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']", message: 'No focused tests on main.' }] },
  },
  {
    // Test helpers are for tests: library code may not import them.
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.test.ts', 'libs/testing/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@triad/testing', message: 'Test helpers are for *.spec.ts files only.' }] }] },
  },
];
