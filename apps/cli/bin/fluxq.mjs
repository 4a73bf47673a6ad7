#!/usr/bin/env node
// Runs the TypeScript sources with tsx's loader in one child node process (workspace
// packages resolved to their sources), passing signals on and its exit code back.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const loader = pathToFileURL(require.resolve('tsx')).href;
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const child = spawn(
  process.execPath,
  ['--import', loader, '--conditions=@fluxq/source', main, ...process.argv.slice(2)],
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
