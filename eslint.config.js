// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './lint/layers.mjs';

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
    // The layer diagram (docs/architecture.md, lint/layers.mjs, D78): which folder may import which, and the protocol
    // and contracts packages only through their index. test/architecture/layers.test.ts proves a forbidden import fails.
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/imports': 'error' },
  },
  {
    // The domain never imports a transport's library; the shared packages import none of the runtime's.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['mqtt', 'aedes', 'serialport', 'fastify'] }],
    },
  },
  {
    files: ['firmware-protocol/src/**/*.ts', 'contracts/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['mqtt', 'aedes', 'serialport', 'fastify', 'sharp', 'sqlite3'] }],
    },
  },
);
