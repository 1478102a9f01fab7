// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data*/**', 'coverage/**', 'bench/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Layering (docs/architecture.md): the domain never imports a transport, the codec imports nothing of ours.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/transport/**', '**/api/**', '**/cli/**', 'mqtt', 'aedes', 'serialport', 'fastify'] }],
    },
  },
  {
    files: ['firmware-protocol/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/src/**', '../../src/*', 'mqtt', 'aedes', 'serialport', 'fastify', 'sharp', 'sqlite3'] }],
    },
  },
);
