import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { UsageError } from './args.js';

/** Extensions a directory or a glob contributes (explicit files are taken as they are). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

export interface InputImage {
  /** Absolute path. */
  file: string;
  /** The batch's `custom_id`: the path relative to its directory argument, or to the working directory. */
  customId: string;
  /** The output's base name, without extension (unique across the set). */
  name: string;
}

const isImageName = (name: string) =>
  (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
const hasGlob = (text: string) => /[*?]/.test(text);
const toPosix = (path: string) => path.split(sep).join('/');

/** `*` (any run of characters but `/`) and `?` (one), everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** A path shown relative to `cwd` when it is inside it, else its file name. */
function idFromCwd(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? toPosix(rel) : basename(file);
}

/**
 * The images named by `inputs`: a directory gives its png/jpg/jpeg/webp files (not
 * recursive), a pattern with `*`/`?` in its last segment the matching image files, and a
 * file itself. Sorted by custom_id; a path named twice counts once.
 */
export async function collectImages(inputs: string[], cwd: string): Promise<InputImage[]> {
  if (inputs.length === 0) throw new UsageError('name at least one image file, directory or glob');
  const found = new Map<string, string>(); // file → custom_id
  for (const input of inputs) {
    const path = resolve(cwd, input);
    if (hasGlob(input)) {
      const dir = dirname(path);
      if (hasGlob(dir)) throw new UsageError(`only the last part of a glob may hold * or ?: ${input}`);
      const pattern = globToRegExp(basename(path));
      const names = await readdir(dir).catch(() => {
        throw new UsageError(`no such directory: ${dir}`);
      });
      for (const name of names.sort()) {
        if (!pattern.test(name) || !isImageName(name)) continue;
        const file = resolve(dir, name);
        if ((await stat(file)).isFile() && !found.has(file)) found.set(file, idFromCwd(file, cwd));
      }
      continue;
    }
    const info = await stat(path).catch(() => {
      throw new UsageError(`no such file or directory: ${input}`);
    });
    if (info.isDirectory()) {
      const entries = await readdir(path, { withFileTypes: true });
      for (const entry of entries) {
        if (!entry.isFile() || !isImageName(entry.name)) continue;
        const file = resolve(path, entry.name);
        if (!found.has(file)) found.set(file, entry.name);
      }
    } else if (!found.has(path)) {
      found.set(path, idFromCwd(path, cwd));
    }
  }
  if (found.size === 0)
    throw new UsageError(`no images (${IMAGE_EXTENSIONS.join(', ')}) in ${inputs.join(' ')}`);
  const byId = new Map<string, string>();
  for (const [file, customId] of found) {
    const other = byId.get(customId);
    if (other) throw new UsageError(`two inputs would share the name ${customId}: ${other} and ${file}`);
    byId.set(customId, file);
  }
  const ids = [...byId.keys()].sort();
  const names = outputNames(ids);
  return ids.map((customId) => ({ file: byId.get(customId)!, customId, name: names.get(customId)! }));
}

/** `photos/cat.png` → `photos__cat`; when two stems collide (a.png, a.jpg) both keep their extension. */
export function outputNames(customIds: string[]): Map<string, string> {
  const flat = (id: string) => id.replace(/\//g, '__');
  const stem = (id: string) => flat(id.slice(0, id.length - extname(id).length) || id);
  const counts = new Map<string, number>();
  for (const id of customIds) counts.set(stem(id), (counts.get(stem(id)) ?? 0) + 1);
  return new Map(customIds.map((id) => [id, (counts.get(stem(id)) ?? 0) > 1 ? flat(id) : stem(id)]));
}

/** `<name>.<format>`, or `<name>-<i>.<format>` (from 1) when a request makes several images. */
export function outputFileName(name: string, format: string, index: number, count: number): string {
  return count > 1 ? `${name}-${index + 1}.${format}` : `${name}.${format}`;
}
