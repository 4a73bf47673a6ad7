import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SigningSecret {
  value: string;
  /** `env`: FILES_SIGNING_SECRET; `file`: read from the file; `created`: just written to it. */
  source: 'env' | 'file' | 'created';
}

/**
 * The secret that signs file URLs: `FILES_SIGNING_SECRET`, else the one kept in `file`
 * (created on first run: 32 random bytes as hex, mode 0600), so URLs survive restarts.
 */
export async function loadSigningSecret(env: NodeJS.ProcessEnv, file: string): Promise<SigningSecret> {
  const fromEnv = env.FILES_SIGNING_SECRET?.trim();
  if (fromEnv) return { value: fromEnv, source: 'env' };
  const existing = await readSecret(file);
  if (existing !== undefined) return { value: existing, source: 'file' };
  const value = randomBytes(32).toString('hex');
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another launcher created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readSecret(file);
    if (theirs !== undefined) return { value: theirs, source: 'file' };
  }
  return { value, source: 'created' };
}

async function readSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = text.trim();
  if (!value)
    throw new Error(`${file} is empty: delete it to generate a new secret, or set FILES_SIGNING_SECRET`);
  return value;
}
