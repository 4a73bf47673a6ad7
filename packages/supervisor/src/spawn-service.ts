import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { trackChild } from './child-exit.js';
import { createLineBuffer, formatTail, type LineListener, pipeLines } from './line-buffer.js';
import { repoRoot } from './repo-root.js';
import { type ServiceReadiness, waitUntilReady } from './wait-until-ready.js';

export interface SpawnServiceOptions {
  /** Label for echoed logs and errors, e.g. `'api'`. */
  name: string;
  /** TypeScript entry point relative to `root`, e.g. `'apps/api/src/main.ts'`. */
  entry: string;
  /** How the entry runs: its TypeScript source, or its compiled twin. @defaultValue 'source' */
  runtime?: ServiceRuntime;
  /** Directory the entry is relative to and the process runs in. @defaultValue the repository root */
  root?: string;
  /** Flags for node itself, before the entry (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  /** Merged over `process.env`; a key set to `undefined` is removed. */
  env?: Record<string, string | undefined>;
  /** When the service counts as started (all given conditions). @defaultValue as soon as it is spawned */
  ready?: ServiceReadiness;
  /** Readiness deadline; on timeout the process is killed. Unit: milliseconds. @defaultValue 30_000 */
  timeoutMs?: number;
  /** How long `stop()` waits after its signal before SIGKILL. Unit: milliseconds. @defaultValue 10_000 */
  stopTimeoutMs?: number;
  /** Output lines kept for `logs()`. @defaultValue 2_000 */
  maxLogLines?: number;
  /** Every output line, as it arrives. */
  onLine?: LineListener;
  /** Own process group, so a terminal's Ctrl-C reaches only the parent. @defaultValue false */
  detached?: boolean;
  /** Aborting it while the service starts stops the process and rejects. */
  signal?: AbortSignal;
}

export interface Service {
  readonly name: string;
  readonly pid: number;
  /** Captured output lines (stdout and stderr), oldest first. */
  logs(): string[];
  /** Sends `signal` (SIGKILL after `stopTimeoutMs`) and resolves with the exit code. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Resolves with the exit code (`null` after a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** The signal that ended the process, if one did. */
  exitSignal(): NodeJS.Signals | null;
}

export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
  readonly code = 'TESTING_ERR_SERVICE_START';
  constructor(
    message: string,
    /** The service's output up to the failure. */
    readonly logs: string[],
  ) {
    super(message);
  }
}

/**
 * `'source'`: the TypeScript entry through tsx's loader (development, tests). `'built'`: the
 * JavaScript `npm run build` emitted for it, with plain node and no loader, as production runs.
 */
export type ServiceRuntime = 'source' | 'built';

/**
 * Where tsc puts an entry's JavaScript: a workspace compiles `src/` to `dist/`
 * (`apps/api/src/main.ts` → `apps/api/dist/main.js`), the launcher its folder to `dist/` in it
 * (`scripts/start.ts` → `scripts/dist/start.js`).
 */
export function builtEntry(entry: string): string {
  if (!entry.endsWith('.ts')) throw new Error(`${entry} is not a TypeScript entry`);
  const js = entry.replace(/\.ts$/, '.js');
  return /(^|\/)src\//.test(js)
    ? js.replace(/(^|\/)src\//, '$1dist/')
    : join(dirname(js), 'dist', basename(js));
}

/** The node arguments that run `entry` under `runtime`; a missing build is named, not a crash. */
export function serviceNodeArgs(
  entry: string,
  runtime: ServiceRuntime = 'source',
  root = repoRoot,
): string[] {
  if (runtime === 'source') return tsNodeArgs(entry, root);
  const file = builtEntry(isAbsolute(entry) ? entry : join(root, entry));
  if (!existsSync(file)) throw new Error(`${file} does not exist: run \`npm run build\` first`);
  return [file];
}

/**
 * The node arguments that run a TypeScript entry the way `tsx` does, with workspace
 * packages resolved to their sources. tsx's loader is imported into one node process
 * rather than running the `tsx` CLI, which forks a second process: signals (SIGKILL
 * above all) must reach the service itself.
 */
export function tsNodeArgs(entry: string, root = repoRoot): string[] {
  const loader = createRequire(join(root, 'package.json')).resolve('tsx');
  const file = isAbsolute(entry) ? entry : join(root, entry);
  return ['--import', pathToFileURL(loader).href, '--conditions=@fluxq/source', file];
}

/** Runs an entry point of this repo (source or built) as a child process and waits until it is ready. */
export async function spawnService(options: SpawnServiceOptions): Promise<Service> {
  const opts = { timeoutMs: 30_000, stopTimeoutMs: 10_000, maxLogLines: 2_000, detached: false, ...options };
  const { name } = opts;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(opts.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const logs = createLineBuffer(opts.maxLogLines);
  if (process.env.FLUXQ_TEST_ECHO === '1')
    logs.subscribe((line) => process.stderr.write(`[${name}] ${line}\n`));
  if (opts.onLine) logs.subscribe(opts.onLine);

  const root = opts.root ?? repoRoot;
  let args: string[];
  try {
    args = [...(opts.nodeArgs ?? []), ...serviceNodeArgs(opts.entry, opts.runtime, root)];
  } catch (error) {
    throw new ServiceStartError(`${name}: ${(error as Error).message}`, []);
  }
  const child = spawn(process.execPath, args, {
    cwd: root,
    env,
    // An IPC channel only when readiness is signalled over it: other services must not see one.
    stdio: opts.ready?.ipcEvent ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    detached: opts.detached,
  });
  const tracked = trackChild(child);
  pipeLines(child.stdout!, (line) => logs.push(line, 'stdout'));
  pipeLines(child.stderr!, (line) => logs.push(line, 'stderr'));
  try {
    await once(child, 'spawn');
  } catch (error) {
    throw new ServiceStartError(
      `${name}: could not spawn ${process.execPath}: ${(error as Error).message}`,
      [],
    );
  }

  let stopping: Promise<number | null> | undefined;
  const service: Service = {
    name,
    pid: child.pid!,
    logs: () => logs.lines(),
    stop(signal = 'SIGTERM') {
      stopping ??= tracked.terminate(signal, opts.stopTimeoutMs).then((exit) => exit.code);
      return stopping;
    },
    async kill() {
      await tracked.terminate('SIGKILL', 0);
    },
    exited: tracked.exited.then((exit) => exit.code),
    exitSignal: () => tracked.exitInfo()?.signal ?? null,
  };

  try {
    const subscribeMessages = (listener: (message: unknown) => void) => {
      child.on('message', listener);
      return () => child.off('message', listener);
    };
    await waitUntilReady(
      { ...opts, ready: opts.ready ?? {} },
      logs.subscribe,
      tracked.exited,
      subscribeMessages,
    );
    // Readiness was the channel's one job: let this process exit without disconnecting it.
    if (child.connected) child.channel?.unref();
    return service;
  } catch (error) {
    await service.stop(opts.signal?.aborted ? 'SIGTERM' : 'SIGKILL');
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw new ServiceStartError(
      `${name} ${(error as Error).message}\nlast log lines:\n${formatTail(logs.lines())}`,
      logs.lines(),
    );
  }
}
