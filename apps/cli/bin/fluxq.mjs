#!/usr/bin/env node
// Installed from a tarball (no src/, no tsx): run the built JavaScript in this process.
// In the repository: run the TypeScript sources with tsx's loader in one child node process
// (workspace packages resolved to their sources), passing signals on and its exit code back.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = (() => {
  try {
    return require.resolve('tsx');
  } catch {
    return undefined;
  }
})();

if (!existsSync(source) || tsx === undefined) {
  await import('../dist/main.js');
} else {
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(tsx).href, '--conditions=@fluxq/source', source, ...process.argv.slice(2)],
    // Its own process group: a terminal's Ctrl-C reaches only this process, which passes it
    // on once (a second signal makes the CLI stop at once).
    { stdio: 'inherit', detached: true },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1));
  });
}
