// The rules every Lua script of the repository keeps (issue 15 §1), checked by
// test/lua-scripts.test.ts against the repository and against bad fixtures:
//   inline    no TypeScript source (packages/*/src, apps/*/src) holds Lua: scripts are .lua files;
//   header    every .lua file opens with a comment block naming its KEYS and its ARGV;
//   own-keys  no .lua file names a key itself (a `{fluxq}` or `bull:` string, a BullMQ key suffix
//             such as `':wait'`, a `'…:'` glued with `..` into a command's key argument; glued hash
//             field names such as `'fail:' .. bucket` are fine): keys come only from KEYS, so a script reaches no other
//             module's keys and none of BullMQ's internals.
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface LuaViolation {
  rule: 'inline' | 'header' | 'own-keys';
  /** Relative to the root checked, with `/` separators. */
  file: string;
  line: number;
  text: string;
}

/** Never read: installed or built copies, and git's own files. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.turbo', 'coverage']);

function filesUnder(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** A TypeScript source of a workspace: `packages/<name>/src/…` or `apps/<name>/src/…`. */
const isWorkspaceSource = (file: string) => /^(packages|apps)\/[^/]+\/src\/.+\.ts$/.test(file);

/**
 * The Lua code with its comments blanked (strings kept, line numbers kept), so a key named in
 * a comment (the header documents them) is not taken for one the code builds.
 */
export function stripLuaComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== ch && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else if (source.startsWith('--', i)) {
      // `--[[ … ]]` (or `--[==[ … ]==]`) runs to its closing bracket, `-- …` to the line's end.
      const block = source.slice(i + 2).match(/^\[(=*)\[/);
      const close = block ? `]${block[1]}]` : '\n';
      const at = source.indexOf(close, i + 2);
      const stop = at === -1 ? source.length : block ? at + close.length : at;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** The comment lines the file opens with (blank lines between them allowed). */
function headerOf(source: string): string {
  const lines: string[] = [];
  for (const line of source.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.trimStart().startsWith('--')) break;
    lines.push(line);
  }
  return lines.join('\n');
}

/** Strings that name a key (or a key's suffix) rather than take it from KEYS. */
const KEY_LITERAL = /(['"])(?:(?!\1).)*(?:\{fluxq\}|bull:)(?:(?!\1).)*\1/;
const GLUED_SUFFIX = /\.\.\s*(['"]):[A-Za-z][\w:-]*\1|(['"])[^'"\n]*:\2\s*\.\./;
/** The key argument of a `redis.call('CMD', key, …)`: where a glued `'…:' ..` names a key (elsewhere, a hash field). */
const KEY_ARGUMENT = /redis\.p?call\(\s*(['"])[\w|]+\1\s*,\s*([^,)]*)/g;
/** A `local k = '…:' .. x` (a key made first, used after). */
const LOCAL_GLUED = /^\s*local\s+\w+\s*=\s*(['"])[^'"\n]*:\1\s*\.\./;
const gluesKey = (text: string) =>
  LOCAL_GLUED.test(text) || [...text.matchAll(KEY_ARGUMENT)].some((call) => GLUED_SUFFIX.test(call[2] ?? ''));
const BULL_SUFFIXES =
  /(['"]):(?:wait|prioritized|meta|id|active|delayed|paused|completed|failed|events|pc|marker)\1/;

export function checkLuaRules(root: string): LuaViolation[] {
  const violations: LuaViolation[] = [];
  for (const path of filesUnder(root)) {
    const file = relative(root, path).split(sep).join('/');
    if (file.endsWith('.ts') && isWorkspaceSource(file)) {
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((text, index) => {
          if (/\bredis\.p?call\(/.test(text))
            violations.push({ rule: 'inline', file, line: index + 1, text: text.trim() });
        });
    } else if (file.endsWith('.lua')) {
      const source = readFileSync(path, 'utf8');
      const header = headerOf(source);
      if (!/\bKEYS\b/.test(header) || !/\bARGV\b/.test(header)) {
        violations.push({ rule: 'header', file, line: 1, text: source.split('\n')[0] ?? '' });
      }
      stripLuaComments(source)
        .split('\n')
        .forEach((text, index) => {
          if (KEY_LITERAL.test(text) || gluesKey(text) || BULL_SUFFIXES.test(text))
            violations.push({ rule: 'own-keys', file, line: index + 1, text: text.trim() });
        });
    }
  }
  return violations.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}
