/**
 * A real S3-compatible server for tests: s3rver (from npm) in its own child process on
 * 127.0.0.1 with a temp directory, behind a front that checks SigV4 like S3 (s3-front.ts).
 * s3rver runs with `--openssl-legacy-provider`: without it ListObjectsV2 paging answers 500
 * on Node 20 (shared/s3-testing.md).
 */

import { spawn } from 'node:child_process';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { createConnection, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLineBuffer,
  describeExit,
  formatTail,
  getFreePort,
  onProcessExit,
  pipeLines,
  trackChild,
  waitFor,
} from '@fluxq/supervisor';
import { type S3Front, type S3FrontStats, startS3Front } from './s3-front.js';

export interface S3ServerOptions {
  /** Buckets created at start. @defaultValue ['fluxq-test'] */
  buckets?: string[];
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** The front's clock (refusals of expired URLs). @defaultValue Date.now */
  now?: () => number;
}

export interface S3Server {
  /** Path-style endpoint, `http://127.0.0.1:<port>` (set S3_FORCE_PATH_STYLE=true). */
  readonly endpoint: string;
  /** Virtual-host endpoint, `http://localhost:<port>`: buckets are `bucket.localhost`, which needs `localhostLookup`. */
  readonly vhostEndpoint: string;
  readonly port: number;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** s3rver's data directory. */
  readonly dir: string;
  readonly stats: S3FrontStats;
  /** The variables that point fluxq's API and workers at this server (path-style). */
  env(): Record<string, string>;
  logs(): string[];
  stop(): Promise<void>;
}

/**
 * Resolves `localhost` and `*.localhost` to 127.0.0.1 (RFC 6761), which glibc here does not
 * do for subdomains: virtual-host requests (`bucket.localhost`) need it.
 */
export const localhostLookup = ((
  hostname: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) => {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    const address: LookupAddress = { address: '127.0.0.1', family: 4 };
    if (options.all) callback(null, [address]);
    else callback(null, address.address, address.family);
    return;
  }
  dnsLookup(hostname, options as never, callback as never);
}) as unknown as LookupFunction;

/** An HTTP agent using `localhostLookup`, for SDK clients and downloads of vhost URLs. */
export function localhostAgent(): Agent {
  return new Agent({ keepAlive: true, lookup: localhostLookup });
}

const s3rverBin = () => createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const buckets = options.buckets ?? ['fluxq-test'];
  const creds = {
    region: options.region ?? 'us-east-1',
    accessKeyId: options.accessKeyId ?? 'AKIAFLUXQTEST0000001',
    secretAccessKey: options.secretAccessKey ?? 'fluxq-test-secret-key-0000000000000000000',
  };
  const dir = await mkdtemp(join(tmpdir(), 'fluxq-s3-'));
  const cancelDirCleanup = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const logs = createLineBuffer(500);
  const upstreamPort = await getFreePort();
  const args = [
    '--openssl-legacy-provider',
    s3rverBin(),
    '--directory',
    dir,
    '--address',
    '127.0.0.1',
    '--port',
    String(upstreamPort),
    '--no-vhost-buckets',
    ...buckets.flatMap((bucket) => ['--configure-bucket', bucket]),
  ];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const tracked = trackChild(child);
  pipeLines(child.stdout!, (line) => logs.push(line, 'stdout'));
  pipeLines(child.stderr!, (line) => logs.push(line, 'stderr'));
  let front: S3Front | undefined;
  const cleanup = async () => {
    await front?.close();
    await tracked.terminate('SIGTERM', 5_000);
    cancelDirCleanup();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitFor(() => portAnswers(upstreamPort), {
        timeoutMs: 15_000,
        intervalMs: 25,
        message: `s3rver to listen on 127.0.0.1:${upstreamPort}`,
      }),
      tracked.exited.then((exit) => Promise.reject(new Error(`s3rver exited with ${describeExit(exit)}`))),
    ]);
    front = await startS3Front({ ...creds, upstreamPort, now: options.now });
  } catch (error) {
    await cleanup();
    throw new Error(`${(error as Error).message}\ns3rver output:\n${formatTail(logs.lines())}`);
  }
  const { port, stats } = front;
  const endpoint = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    vhostEndpoint: `http://localhost:${port}`,
    port,
    bucket: buckets[0]!,
    ...creds,
    dir,
    stats,
    env: () => ({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: buckets[0]!,
      S3_ENDPOINT: endpoint,
      S3_REGION: creds.region,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      // No instance metadata service here: the default chain must not wait for one.
      AWS_EC2_METADATA_DISABLED: 'true',
      // The SDK warns on Node 20 that its 2027 releases will need Node 22; the lockfile pins one that runs here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }),
    logs: () => logs.lines(),
    stop() {
      stopping ??= cleanup();
      return stopping;
    },
  };
}
