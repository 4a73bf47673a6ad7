import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeExit, type ExitInfo, type TrackedChild, trackChild } from './child-exit.js';
import { onProcessExit } from './exit-hooks.js';
import { findExecutable, findRedisServerBinary } from './find-executable.js';
import { getFreePort } from './free-port.js';
import { createLineBuffer, formatTail, pipeLines } from './line-buffer.js';
import { probeRedis } from './redis-probe.js';
import { waitFor } from './wait-for.js';

export interface RedisServerOptions {
  /** Append-only file on, so data survives `kill()` + `restart()`. @defaultValue false */
  appendonly?: boolean;
  /** AOF fsync policy (`always` loses nothing on SIGKILL). @defaultValue 'everysec' */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data directory, kept by `stop()`. @defaultValue a new temp directory, removed by `stop()` */
  dir?: string;
  /** Port on 127.0.0.1. @defaultValue a free port */
  port?: number;
  /** The binary. @defaultValue `REDIS_SERVER_BIN`, else `redis-server` on PATH */
  bin?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only the parent. @defaultValue false */
  detached?: boolean;
  /** How long to wait for `PONG`. Unit: milliseconds. @defaultValue 10_000 */
  startTimeoutMs?: number;
  /** More `--name value` arguments after ours (e.g. cluster settings). */
  args?: string[];
  /**
   * Run as a Sentinel with this config (`sentinel monitor …` lines): written once to
   * `dir/sentinel.conf`, which the sentinel then rewrites with what it learns.
   */
  sentinel?: string;
  /** Each line redis-server logs, as it arrives. */
  onLine?: (line: string) => void;
  /** Called when redis-server exits without `stop()`, `kill()` or `restart()` asking it to. */
  onUnexpectedExit?: (exit: ExitInfo) => void;
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** SIGTERM (Redis flushes the AOF), then removes the temp dir it created. Final and idempotent. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. `restart()` brings it back. */
  kill(): Promise<void>;
  /** Stops it if running, then starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** Recent log lines of redis-server. */
  logs(): string[];
}

export class RedisServerNotFoundError extends Error {
  override readonly name = 'RedisServerNotFoundError';
  readonly code = 'TESTING_ERR_REDIS_NOT_FOUND';
}

const STOP_GRACE_MS = 10_000;

/** Starts a private `redis-server` on 127.0.0.1 and waits until it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const opts = {
    appendonly: false,
    appendfsync: 'everysec',
    detached: false,
    startTimeoutMs: 10_000,
    ...options,
  };
  const bin = opts.bin ? findExecutable(opts.bin) : findRedisServerBinary();
  if (!bin) {
    const hint = opts.bin || process.env.REDIS_SERVER_BIN;
    throw new RedisServerNotFoundError(
      hint
        ? `redis-server not found at ${hint} (REDIS_SERVER_BIN): point it at the binary or set REDIS_URL`
        : 'redis-server not found on PATH: install it with `apt-get install redis-server` or set REDIS_URL',
    );
  }
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ? resolve(opts.dir) : await mkdtemp(join(tmpdir(), 'fluxq-redis-'));
  const cancelDirCleanup = ownsDir
    ? onProcessExit(() => rmSync(dir, { recursive: true, force: true }))
    : () => {};
  const logs = createLineBuffer(500);
  if (opts.onLine) logs.subscribe(opts.onLine);

  let current: TrackedChild | undefined;
  let expectingExit = false;
  let stopping: Promise<void> | undefined;

  const launch = async (port: number): Promise<TrackedChild> => {
    await mkdir(dir, { recursive: true });
    const config: Array<[string, string]> = [
      ['port', String(port)],
      ['bind', '127.0.0.1'],
      ['dir', dir],
      ...(opts.sentinel !== undefined
        ? []
        : ([
            ['save', ''],
            ['appendonly', opts.appendonly ? 'yes' : 'no'],
            ['appendfsync', opts.appendfsync],
            ['maxmemory-policy', 'noeviction'],
          ] as Array<[string, string]>)),
      ['daemonize', 'no'],
      ['logfile', ''],
    ];
    let args = config.flatMap(([name, value]) => [`--${name}`, value]);
    if (opts.sentinel !== undefined) {
      // A sentinel rewrites its config file with what it learns (replicas, other sentinels).
      const file = join(dir, 'sentinel.conf');
      if (!existsSync(file)) writeFileSync(file, opts.sentinel);
      args = [file, '--sentinel', ...args];
    }
    args.push(...(opts.args ?? []));
    const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached });
    const tracked = trackChild(child);
    pipeLines(child.stdout!, (line) => logs.push(line, 'stdout'));
    pipeLines(child.stderr!, (line) => logs.push(line, 'stderr'));
    void tracked.exited.then((exit) => {
      if (!expectingExit && tracked === current) opts.onUnexpectedExit?.(exit);
    });
    const aborter = new AbortController();
    try {
      await Promise.race([
        waitFor(async () => (await probeRedis({ port, timeoutMs: 500 })).status === 'pong', {
          timeoutMs: opts.startTimeoutMs,
          intervalMs: 25,
          message: `redis-server to answer PING on 127.0.0.1:${port}`,
          signal: aborter.signal,
        }),
        tracked.exited.then((exit) =>
          Promise.reject(new Error(`redis-server exited with ${describeExit(exit)}`)),
        ),
      ]);
      return tracked;
    } catch (error) {
      await tracked.terminate('SIGKILL', 0);
      throw new Error(`${(error as Error).message}\nredis-server output:\n${formatTail(logs.lines())}`);
    } finally {
      aborter.abort();
    }
  };

  let port = opts.port ?? (await getFreePort());
  for (let attempt = 1; ; attempt++) {
    try {
      current = await launch(port);
      break;
    } catch (error) {
      // Another process can grab a free port between getFreePort() and redis-server binding it.
      const raced = /Address already in use/i.test((error as Error).message);
      if (opts.port !== undefined || !raced || attempt >= 3) {
        if (ownsDir) {
          cancelDirCleanup();
          await rm(dir, { recursive: true, force: true });
        }
        throw error;
      }
      port = await getFreePort();
    }
  }

  const halt = async (signal: NodeJS.Signals) => {
    const running = current;
    if (!running) return;
    expectingExit = true;
    try {
      await running.terminate(signal, STOP_GRACE_MS);
    } finally {
      expectingExit = false;
      if (current === running) current = undefined;
    }
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    logs: () => logs.lines(),
    stop() {
      stopping ??= (async () => {
        try {
          await halt('SIGTERM');
        } finally {
          if (ownsDir) {
            cancelDirCleanup();
            await rm(dir, { recursive: true, force: true });
          }
        }
      })();
      return stopping;
    },
    kill: () => halt('SIGKILL'),
    async restart() {
      if (stopping) throw new Error('redis-server was stopped for good; start a new one');
      await halt('SIGTERM');
      current = await launch(port);
    },
  };
}
