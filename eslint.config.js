// ESLint for berth: typescript-eslint's recommended rules, import cycles forbidden, and the
// arrows of DESIGN.md ("Layers and the direction of dependencies") as import restrictions per
// folder, so an upward or sideways import fails `npm run lint` and CI.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Imports of these top-level folders of src/ (at any depth of `../`) are refused, with why. */
const deny = (folders, why) => folders.map((f) => ({ regex: `^(\\.\\./)+${f}(/|\\.js$)`, message: why }));

/** One folder's restrictions: `patterns` for no-restricted-imports. */
const layer = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

const clientSide = 'a client of the Docker API imports no engine, image, runtime or network code (DESIGN.md)';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', '.bench/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // The code base's own conventions, where typescript-eslint's defaults differ.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A variable assigned once after closures that read it are made (a stream and its decoder).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true }],
      // Decoded JSON bodies (api/server/body-decode.ts) and the tests' JSON are `any` at the
      // boundary for now; typing them is left for a later change.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  // No swallowed errors: a failure is logged with context, handled, or met where the promise is
  // awaited (common/promises.ts says so by name); an empty handler drops it unseen.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-empty': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name=/^(catch|then)$/] > :matches(ArrowFunctionExpression, FunctionExpression)[body.type='BlockStatement'][body.body.length=0]",
          message: 'an empty handler drops the error: log it with context, handle it, or use awaitedLater/settled (common/promises.ts)',
        },
        {
          selector: "CallExpression[callee.property.name='catch'] > ArrowFunctionExpression[body.type='Identifier'][body.name='undefined']",
          message: 'a handler that returns undefined drops the error: handle the expected case only, and rethrow the rest',
        },
      ],
    },
  },
  // A promise nobody awaits or handles loses its error unseen: checked with the types (node:test's
  // test() and describe() are awaited by the runner).
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // The launchers start node on a CommonJS bundle (bin/berth.cjs says why).
  { files: ['bin/**'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The ground floor imports no layer: only errors, the OCI types, and itself.
  layer(
    ['src/common/**', 'src/oci/**', 'src/errors.ts'],
    deny(
      ['engine', 'image', 'runtime', 'network', 'native', 'tar', 'build', 'api', 'cli', 'compose', 'cri', 'kube'],
      'the ground floor (common/, oci/, errors.ts) imports no layer (DESIGN.md)',
    ),
  ),
  layer(
    ['src/tar/**'],
    deny(['engine', 'image', 'runtime', 'network', 'native', 'api', 'cli'], 'the tar reader and writer are a leaf (DESIGN.md)'),
  ),
  layer(
    ['src/runtime/**'],
    deny(['engine', 'image', 'network', 'api', 'cli'], '`runtime` knows nothing of images, networks or containers (DESIGN.md)'),
  ),
  layer(
    ['src/image/**'],
    deny(['engine', 'runtime', 'network', 'api', 'cli'], '`image` knows nothing of containers or the runtime (DESIGN.md)'),
  ),
  layer(
    ['src/network/**'],
    deny(['engine', 'image', 'runtime', 'api', 'cli'], '`network` knows nothing of containers, images or the runtime (DESIGN.md)'),
  ),
  layer(['src/native/**'], deny(['engine', 'image', 'runtime', 'network', 'api', 'cli'], 'the native binding is a leaf (DESIGN.md)')),
  layer(
    ['src/build/**'],
    [
      ...deny(
        ['engine', 'network', 'api', 'cli'],
        '`build` stands on image and runtime; the engine hands it what else a step needs (DESIGN.md)',
      ),
      { regex: '^(\\.\\./)+image/(?!index\\.js$)', message: 'the builder uses the image library through image/index.ts only' },
    ],
  ),
  layer(
    ['src/engine/**'],
    [
      ...deny(['api', 'cli', 'cri'], '`engine` knows nothing of HTTP, gRPC or the command line (DESIGN.md)'),
      { regex: '^(\\.\\./)+image/(?!index\\.js$)', message: 'the engine uses the image library through image/index.ts only' },
    ],
  ),
  layer(
    ['src/api/server/**'],
    [
      ...deny(['image', 'runtime', 'network', 'native', 'build', 'cli'], 'the API server uses the engine only (DESIGN.md)'),
      {
        regex: '^(\\.\\./)+engine/(?!index\\.js$)',
        message: "the API server imports only the engine's public module, engine/index.ts (DESIGN.md)",
      },
    ],
  ),
  layer(
    ['src/cri/**'],
    [
      ...deny(
        ['image', 'runtime', 'network', 'native', 'build', 'api', 'cli', 'compose'],
        'the CRI server uses the engine only (DESIGN.md)',
      ),
      {
        regex: '^(\\.\\./)+engine/(?!index\\.js$)',
        message: "the CRI server imports only the engine's public module, engine/index.ts (DESIGN.md)",
      },
    ],
  ),
  layer(
    ['src/api/*.ts'],
    [
      ...deny(['engine', 'image', 'runtime', 'network', 'native', 'build', 'cli', 'cri'], clientSide),
      { regex: '^\\./server/', message: clientSide },
    ],
  ),
  layer(
    ['src/compose/**'],
    [
      ...deny(['engine', 'image', 'runtime', 'network', 'native', 'build', 'cri'], clientSide),
      { regex: '^(\\.\\./)+api/server/', message: clientSide },
    ],
  ),
  layer(
    ['src/kube/**'],
    [
      ...deny(['engine', 'image', 'runtime', 'network', 'native', 'build', 'compose'], clientSide),
      { regex: '^(\\.\\./)+api/server/', message: clientSide },
    ],
  ),
  layer(
    ['src/cli/**'],
    [
      ...deny(['engine', 'image', 'runtime', 'network', 'native', 'build', 'cri'], clientSide),
      { regex: '^(\\.\\./)+api/server/', message: clientSide },
    ],
  ),
);
