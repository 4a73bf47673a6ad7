import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlobStorage, createLocalStorage, createS3Storage, createUrlSigner } from '@fluxq/storage';
import { makeImage, type S3Server } from '@fluxq/testing';

/** Per-output storage cost, ms: what a worker's store and a client's download of one output take. */
export interface StorageCost {
  putMs: number;
  urlMs: number;
  readMs: number;
  bytes: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

/**
 * `count` outputs, one after another: put a 512×512 PNG (the e2e bench's output), make its
 * client URL, read it back. Local reads the blob from disk as the API's /v1/files route does;
 * S3 downloads the presigned URL from the object store over HTTP, as a client would.
 */
async function measure(
  storage: BlobStorage,
  url: (key: string) => Promise<string>,
  read: (key: string, url: string) => Promise<number>,
  count: number,
): Promise<StorageCost> {
  const png = await makeImage({ width: 512, height: 512, format: 'png' });
  const put: number[] = [];
  const sign: number[] = [];
  const get: number[] = [];
  for (let i = 0; i < count + 10; i++) {
    const key = `outputs/bench/job-${i}/0.png`;
    const [, putMs] = await timed(() => storage.put(key, png));
    const [signed, urlMs] = await timed(() => url(key));
    const [bytes, readMs] = await timed(() => read(key, signed));
    if (bytes !== png.byteLength) throw new Error(`read ${bytes} bytes of ${png.byteLength}`);
    // The first ten warm connections and JIT; they are not counted.
    if (i < 10) continue;
    put.push(putMs);
    sign.push(urlMs);
    get.push(readMs);
  }
  return { putMs: median(put), urlMs: median(sign), readMs: median(get), bytes: png.byteLength };
}

export async function measureLocalStorage(count: number): Promise<StorageCost> {
  const rootDir = await mkdtemp(join(tmpdir(), 'fluxq-bench-storage-'));
  try {
    const storage = createLocalStorage({ rootDir });
    const signer = createUrlSigner({
      secret: 'bench-signing-secret-bench-signing-secret',
      baseUrl: 'http://x',
    });
    return await measure(
      storage,
      async (key) => signer.sign(key, 3_600),
      async (key) => (await storage.get(key))?.bytes.byteLength ?? 0,
      count,
    );
  } finally {
    await rm(rootDir, { recursive: true, force: true });
  }
}

export async function measureS3Storage(server: S3Server, count: number): Promise<StorageCost> {
  const storage = createS3Storage({
    bucket: server.bucket,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  return measure(
    storage,
    (key) => storage.presignGet!(key, 3_600),
    async (_key, url) => {
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`presigned GET answered ${res.status}`);
      return (await res.arrayBuffer()).byteLength;
    },
    count,
  );
}
