// Lint with type information (STYLE.md "Tooling").
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const focusedOrSkipped = ['only', 'skip', 'todo'].flatMap((property) =>
  ['it', 'test', 'describe'].map((object) => ({
    object,
    property,
    message: `${object}.${property} hides a failure or a missing feature`,
  })),
);

// A package's own `eslint .` gets each file's types from its nearest tsconfig.json. `npm test`
// lints the whole repository in one run (SEQLINE_LINT_WHOLE=1): one program for everything but
// the browser bundles (tsconfig.check.json) and one per bundle, rather than one per package, each
// of which would load every package it imports again.
const typeInformation =
  process.env.SEQLINE_LINT_WHOLE === '1'
    ? { project: ['./tsconfig.check.json', './examples/chat/src/browser/tsconfig.json', './examples/dashboard/src/browser/tsconfig.json'] }
    : { projectService: true };

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.seqline/**', 'libs/proto/src/gen/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { ...typeInformation, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-console': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-restricted-properties': ['error', ...focusedOrSkipped],
    },
  },
  {
    // Entry points and command-line tools may print.
    files: ['**/src/main.ts', '**/src/cli/**/*.ts', 'bench/**/*.ts', 'infra/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
