import { run } from './cli.js';

// Ctrl-C / SIGTERM: stop cleanly (state saved, files whole); a second one exits at once.
const controller = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    controller.abort(new Error(`received ${signal}`));
  });
}

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exit(code);
