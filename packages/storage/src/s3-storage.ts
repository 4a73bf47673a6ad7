/**
 * S3-compatible BlobStorage (AWS S3, R2, MinIO, Ceph RGW, B2) through the official AWS SDK.
 * Objects live under `${prefix}${key}`; a PUT is atomic in S3, so readers see the old object
 * or the new one, never a partial one. Reads stream the object's body; nothing is buffered
 * beyond the bytes a caller already holds for `put`.
 */

import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStorage, BlobStream, PutOptions } from './blob-storage.js';
import { blobContentType, contentTypeForKey } from './content-type.js';
import { STORAGE_ERROR_CODES, StorageError } from './errors.js';
import { assertValidKey } from './keys.js';
import { describeS3StartupError } from './s3-startup-error.js';

export interface S3StorageOptions {
  bucket: string;
  /** Custom endpoint (MinIO, R2, Ceph, B2, a test server). Unset: AWS for `region`. */
  endpoint?: string;
  /**
   * The endpoint clients reach, when it differs from `endpoint` (a store inside a private
   * network, `http://minio:9000`, published as `https://files.example.com`). Presigned URLs
   * are signed for it: SigV4 covers the host, so a URL cannot be re-pointed afterwards.
   * @defaultValue endpoint
   */
  publicEndpoint?: string;
  /** @defaultValue 'us-east-1' */
  region?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, Ceph). @defaultValue false */
  forcePathStyle?: boolean;
  /** Prepended to every key (`fluxq/` → `fluxq/outputs/…`); a trailing `/` is added. */
  prefix?: string;
  /** Credentials; unset: the AWS SDK's default chain (env, profiles, SSO, instance roles). */
  credentials?: S3ClientConfig['credentials'];
  /** More S3Client settings (e.g. a `requestHandler` with its own agent). */
  client?: Omit<S3ClientConfig, 'region' | 'endpoint' | 'forcePathStyle' | 'credentials'>;
  /**
   * Blobs at least this large go up as a multipart upload in parts of this size, so one
   * failed part is retried alone rather than the whole file. S3's smallest part is 5 MiB.
   * @defaultValue 8 MiB
   */
  multipartBytes?: number;
}

const MIB = 1024 * 1024;

/** `fluxq` / `/fluxq/` / `fluxq/` → `fluxq/`; empty stays empty. */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  assertValidKey(trimmed);
  return `${trimmed}/`;
}

/**
 * The SDK's "no such object" shapes: GetObject names it, HeadObject has only a status. A bucket
 * that went away is a failure, not an absent blob.
 */
function isAbsent(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export function createS3Storage(options: S3StorageOptions): BlobStorage {
  const bucket = options.bucket;
  const prefix = normalizePrefix(options.prefix);
  const multipartBytes = Math.max(5 * MIB, options.multipartBytes ?? 8 * MIB);
  const region = options.region ?? 'us-east-1';
  const clientFor = (endpoint: string | undefined) =>
    new S3Client({
      ...options.client,
      region,
      endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: options.credentials,
    });
  const client = clientFor(options.endpoint);
  // Presigning is local computation: this client never sends a request.
  const presigner =
    options.publicEndpoint && options.publicEndpoint !== options.endpoint
      ? clientFor(options.publicEndpoint)
      : client;

  function objectKey(key: string): string {
    assertValidKey(key);
    return `${prefix}${key}`;
  }

  const readError = (key: string, err: unknown) =>
    new StorageError(STORAGE_ERROR_CODES.READ, `Could not read blob "${key}"`, { key, cause: err });

  async function head(key: string) {
    const Key = objectKey(key);
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw readError(key, err);
    }
  }

  async function open(key: string) {
    const Key = objectKey(key);
    try {
      return await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw readError(key, err);
    }
  }

  return {
    driver: 's3',

    async put(key: string, bytes: Uint8Array, { contentType }: PutOptions = {}) {
      const Key = objectKey(key);
      const expected = blobContentType(key, contentType);
      // A Buffer body has a known length: the SDK sends Content-Length, not aws-chunked framing.
      const Body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const params = { Bucket: bucket, Key, Body, ContentType: expected };
      try {
        if (bytes.byteLength >= multipartBytes) {
          await new Upload({ client, params, partSize: multipartBytes, queueSize: 2 }).done();
        } else {
          await client.send(new PutObjectCommand({ ...params, ContentLength: bytes.byteLength }));
        }
      } catch (err) {
        throw new StorageError(STORAGE_ERROR_CODES.WRITE, `Could not write blob "${key}"`, {
          key,
          cause: err,
        });
      }
      return { key, bytes: bytes.byteLength };
    },

    async get(key: string) {
      const object = await open(key);
      if (!object?.Body) return undefined;
      try {
        return { bytes: await object.Body.transformToByteArray(), contentType: contentTypeForKey(key) };
      } catch (err) {
        throw readError(key, err);
      }
    },

    async stat(key: string) {
      const info = await head(key);
      return info && { bytes: info.ContentLength ?? 0, contentType: contentTypeForKey(key) };
    },

    async createReadStream(key: string): Promise<BlobStream | undefined> {
      const object = await open(key);
      if (!object?.Body) return undefined;
      // In Node the body is the response's IncomingMessage: bytes flow as they arrive.
      return {
        stream: object.Body as Readable,
        bytes: object.ContentLength ?? 0,
        contentType: contentTypeForKey(key),
      };
    },

    async delete(key: string) {
      // S3 answers 204 whether or not the object existed; HEAD first to keep the contract.
      if (!(await head(key))) return false;
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        return true;
      } catch (err) {
        throw new StorageError(STORAGE_ERROR_CODES.WRITE, `Could not delete blob "${key}"`, {
          key,
          cause: err,
        });
      }
    },

    // The signature covers the bucket, the whole key (tenant included) and the expiry, so a
    // URL for one object cannot be edited into a URL for another.
    async presignGet(key: string, ttlSeconds: number) {
      if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
        throw new RangeError('ttlSeconds must be a positive integer');
      }
      const command = new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) });
      return getSignedUrl(presigner, command, { expiresIn: ttlSeconds });
    },

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        throw new Error(describeS3StartupError(err, { bucket, endpoint: options.endpoint, region }));
      }
    },
  };
}
