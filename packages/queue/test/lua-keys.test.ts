import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@fluxq/testing';
import { describe, expect, it } from 'vitest';

/**
 * Redis Cluster requires a script to touch only the keys passed as KEYS. This guards every Lua
 * script in the sources (inline in .ts, or in .lua files) against the two ways a key gets built inside Lua: concatenation
 * (`prefix .. ':job:' .. id`) and taking it from ARGV. PUBLISH takes a channel, not a key.
 */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') || entry.name.endsWith('.lua') ? [path] : [];
  });
}

const roots = ['packages', 'apps'].flatMap((top) =>
  readdirSync(join(repoRoot, top)).map((name) => join(repoRoot, top, name, 'src')),
);

describe('Lua scripts', () => {
  it('take every key from KEYS (none built from ARGV or by concatenation)', () => {
    const offending: string[] = [];
    let calls = 0;
    for (const file of roots.flatMap((root) => {
      try {
        return sourceFiles(root);
      } catch {
        return [];
      }
    })) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/redis\.call\(\s*'([A-Za-z]+)'\s*,\s*([^,)]+)/g)) {
        calls++;
        const [, command, firstArg] = match;
        if (command!.toUpperCase() === 'PUBLISH') continue;
        if (/\.\.|ARGV/.test(firstArg!)) offending.push(`${file.slice(repoRoot.length + 1)}: ${match[0]}`);
      }
    }
    expect(calls).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });
});
