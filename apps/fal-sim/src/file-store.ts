import { randomUUID } from 'node:crypto';

export interface StoredFile {
  /** Undefined while an upload has been initiated but its bytes have not arrived. */
  bytes: Buffer | undefined;
  contentType: string;
  fileName: string;
  /** Epoch ms after which the file answers 404; null = never. */
  expiresAt: number | null;
}

/** The sim's CDN: uploaded inputs and generated outputs, kept in memory until they expire. */
export interface FileStore {
  /** Stores bytes now and returns the token naming them. */
  add(bytes: Buffer, contentType: string, fileName: string, ttlMs?: number | null): string;
  /** Makes a slot for an upload whose bytes come later (`PUT`), returning its token. */
  reserve(contentType: string, fileName: string, ttlMs?: number | null): string;
  /** Fills a reserved slot. False when the token is unknown or expired. */
  fill(token: string, bytes: Buffer, contentType: string | undefined): boolean;
  /** A live file with its bytes, or undefined (unknown, pending or expired). */
  get(token: string): (StoredFile & { bytes: Buffer }) | undefined;
  /** Drops expired files. */
  sweep(): void;
  clear(): void;
}

export interface FileStoreDeps {
  now: () => number;
  /** Default lifetime of a file, ms. */
  ttlMs: number;
  /**
   * Most bytes kept at once; the oldest files are dropped first beyond it, as if they had
   * expired early. Keeps a long batch run from holding every output for an hour.
   */
  maxBytes: number;
}

export function createFileStore({ now, ttlMs, maxBytes }: FileStoreDeps): FileStore {
  // Map order is insertion order, so the first entries are the oldest.
  const files = new Map<string, StoredFile>();
  let totalBytes = 0;
  const drop = (token: string) => {
    const file = files.get(token);
    if (!file) return;
    totalBytes -= file.bytes?.length ?? 0;
    files.delete(token);
  };
  const holdBytes = (added: number) => {
    totalBytes += added;
    for (const token of files.keys()) {
      if (totalBytes <= maxBytes) break;
      drop(token);
    }
  };
  const expiry = (ttl: number | null | undefined) => {
    const effective = ttl === undefined ? ttlMs : ttl;
    return effective === null ? null : now() + effective;
  };
  const live = (token: string) => {
    const file = files.get(token);
    if (!file) return undefined;
    if (file.expiresAt !== null && file.expiresAt <= now()) {
      drop(token);
      return undefined;
    }
    return file;
  };
  return {
    add(bytes, contentType, fileName, ttl) {
      const token = randomUUID();
      files.set(token, { bytes, contentType, fileName, expiresAt: expiry(ttl) });
      holdBytes(bytes.length);
      return token;
    },
    reserve(contentType, fileName, ttl) {
      const token = randomUUID();
      files.set(token, { bytes: undefined, contentType, fileName, expiresAt: expiry(ttl) });
      return token;
    },
    fill(token, bytes, contentType) {
      const file = live(token);
      if (!file) return false;
      totalBytes -= file.bytes?.length ?? 0;
      file.bytes = bytes;
      holdBytes(bytes.length);
      // The type declared at initiate wins; the PUT's only fills a gap.
      if (!file.contentType && contentType) file.contentType = contentType;
      return true;
    },
    get(token) {
      const file = live(token);
      return file?.bytes ? (file as StoredFile & { bytes: Buffer }) : undefined;
    },
    sweep() {
      for (const token of files.keys()) live(token);
    },
    clear() {
      files.clear();
      totalBytes = 0;
    },
  };
}

/** The path a file is served under; the name is cosmetic, the token finds it. */
export function filePath(token: string, fileName: string): string {
  return `/files/${token}/${encodeURIComponent(fileName)}`;
}

/** The token in a sim CDN URL or path, if it is one. */
export function tokenFromFileUrl(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url, 'http://sim.invalid').pathname;
  } catch {
    return undefined;
  }
  const match = /^\/files\/([0-9a-f-]{36})\//.exec(pathname);
  return match?.[1];
}

/**
 * Reads `expiration_duration_seconds` from fal's lifecycle headers
 * (`X-Fal-Object-Lifecycle[-Preference]`, fal.md §2.10): undefined = use the default,
 * null = never expire.
 */
export function lifecycleTtlMs(header: string | undefined): number | null | undefined {
  if (!header) return undefined;
  try {
    const parsed: unknown = JSON.parse(header);
    if (typeof parsed !== 'object' || parsed === null || !('expiration_duration_seconds' in parsed)) {
      return undefined;
    }
    const seconds = (parsed as { expiration_duration_seconds: unknown }).expiration_duration_seconds;
    if (seconds === null) return null;
    return typeof seconds === 'number' && seconds >= 0 ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}
