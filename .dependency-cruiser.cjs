// The import boundaries `npm run deps:check` holds (issue 15 §6), run in .ci/run after lint.
// Violations recorded in .dependency-cruiser-known-violations.json (`npm run deps:baseline`)
// are reported but do not fail; any other one does. test/dependency-rules.test.ts shows each
// rule failing on a bad import.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the modules cannot be read, tested or loaded one without the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-package-imports-app',
      severity: 'error',
      comment:
        'Packages are what apps are built from; an arrow from a package up to an app (by path or by ' +
        'its @fluxq name) turns the layering around. Move the shared piece into a package.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-app-imports-ioredis',
      severity: 'error',
      comment:
        'Apps reach Redis only through the packages that own its keys, never with ' +
        'a raw client of their own.',
      from: { path: '^apps/' },
      to: { path: '(^|/)node_modules/ioredis/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|\\.data|\\.turbo|coverage)/' },
    // Type-only imports are imports too: a cycle of types still ties the modules together.
    tsPreCompilationDeps: true,
    // Resolve like tsc and vitest here: `./x.js` is `./x.ts`, and `@fluxq/*` goes to the
    // workspace's sources (the `@fluxq/source` export condition), so a workspace import lands
    // on `packages/…` or `apps/…` and the path rules above see where it points.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@fluxq/source', 'import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
