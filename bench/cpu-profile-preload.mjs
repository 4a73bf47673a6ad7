// Loaded with `NODE_OPTIONS=--import <this file>` (node refuses `--cpu-prof` there): profiles the
// whole process, as `--cpu-prof` would, and writes `<CPU_PROFILE_DIR>/<pid>.cpuprofile` at exit.
// A same-thread inspector session answers synchronously, so the 'exit' handler can stop it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
