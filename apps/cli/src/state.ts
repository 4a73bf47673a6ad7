import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_FILE = '.fluxq-state.json';
const VERSION = 1;

export interface EditParams {
  prompt: string;
  model?: string;
  size?: string;
  format: string;
  n: number;
}

export interface StateItem {
  file: string;
  name: string;
  size: number;
  mtimeMs: number;
  uploadId?: string;
}

/** What `fluxq edit` has done so far in one output directory. */
export interface EditState {
  version: number;
  params: EditParams;
  /** By custom_id. */
  items: Record<string, StateItem>;
  batchId?: string;
  /** custom_ids whose outputs are all on disk. */
  downloaded: string[];
}

export const statePath = (outDir: string) => join(outDir, STATE_FILE);

export function newState(params: EditParams): EditState {
  return { version: VERSION, params, items: {}, downloaded: [] };
}

/** The state in `outDir`, or undefined when there is none. A file that is not ours is an error. */
export async function loadState(outDir: string): Promise<EditState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(outDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let state: EditState;
  try {
    state = JSON.parse(text) as EditState;
  } catch {
    throw new Error(`${statePath(outDir)} is not valid JSON; move it away to start over`);
  }
  if (state?.version !== VERSION || typeof state.items !== 'object' || !Array.isArray(state.downloaded)) {
    throw new Error(`${statePath(outDir)} is not a fluxq state file (version ${VERSION})`);
  }
  return state;
}

/** Writes `data` to `path` via a temporary file in the same directory and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Saves the state atomically; saves are serialized, the latest content wins. */
export class StateStore {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    readonly outDir: string,
    readonly state: EditState,
  ) {}

  save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 2)}\n`;
    const next = this.chain.then(() => writeFileAtomic(statePath(this.outDir), text));
    this.chain = next.catch(() => undefined);
    return next;
  }
}
