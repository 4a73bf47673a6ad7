// The Lua rules (test/lua-rules.ts, issue 15 §1) hold for the repository, and the checker is
// shown to catch each kind of breach on a small repository of its own in a temp folder.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '@fluxq/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLuaRules, stripLuaComments } from './lua-rules.js';

const GOOD_LUA = `-- Adds one to a counter.
--   KEYS[1]  the counter
--   ARGV[1]  its TTL, s ({fluxq}:in-a-comment is fine)
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
`;

let folder: string | undefined;
afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

async function repository(files: Record<string, string>): Promise<string> {
  folder = await mkdtemp(join(tmpdir(), 'fluxq-lua-'));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(folder, file)), { recursive: true });
    await writeFile(join(folder, file), text);
  }
  return folder;
}

describe('Lua scripts in the repository', () => {
  it('live in .lua files with KEYS and ARGV documented, and take every key from KEYS', () => {
    expect(checkLuaRules(repoRoot)).toEqual([]);
  });
});

describe('the Lua checker', () => {
  it('passes a documented script that takes its keys from KEYS (and ignores node_modules, dist, tests)', async () => {
    const root = await repository({
      'packages/good/src/lua/count.lua': GOOD_LUA,
      'packages/good/src/count.ts': "export const file = new URL('./lua/count.lua', import.meta.url);\n",
      'packages/good/test/lua.test.ts': 'const lua = "redis.call(\'GET\', KEYS[1])";\n',
      'node_modules/bullmq/src/commands/addJob.lua': "local k = 'bull:' .. ARGV[1] .. ':wait'\n",
      'packages/good/dist/inline.ts': 'const lua = "redis.call(\'GET\', KEYS[1])";\n',
    });
    expect(checkLuaRules(root)).toEqual([]);
  });

  it('flags inline Lua in a package or an app source', async () => {
    const root = await repository({
      'packages/bad/src/store.ts': "const LUA = `\nreturn redis.call('GET', KEYS[1])\n`;\n",
      'apps/api/src/routes/x.ts': 'await redis.eval("return redis.pcall(\'DEL\', KEYS[1])", 1, key);\n',
    });
    expect(checkLuaRules(root).map((v) => `${v.rule} ${v.file}:${v.line}`)).toEqual([
      'inline apps/api/src/routes/x.ts:1',
      'inline packages/bad/src/store.ts:2',
    ]);
  });

  it('flags a .lua file without KEYS and ARGV documented at its top', async () => {
    const root = await repository({
      'packages/bad/src/lua/undocumented.lua': "return redis.call('GET', KEYS[1])\n",
      'packages/bad/src/lua/keys-only.lua': "-- KEYS[1] the counter\nreturn redis.call('GET', KEYS[1])\n",
      'bench/late.lua': 'local x = 1\n-- KEYS[1] ARGV[1] (too late: not the opening comment)\nreturn x\n',
    });
    expect(checkLuaRules(root).map((v) => `${v.rule} ${v.file}`)).toEqual([
      'header bench/late.lua',
      'header packages/bad/src/lua/keys-only.lua',
      'header packages/bad/src/lua/undocumented.lua',
    ]);
  });

  it("flags a .lua file that builds a key itself: another module's or BullMQ's", async () => {
    const root = await repository({
      'packages/bad/src/lua/reach.lua': [
        '-- Reaches keys it was not given.',
        '--   KEYS[1]  a job hash',
        '--   ARGV[1]  a job id',
        "local wait = '{fluxq}:images:wait'",
        "local prio = KEYS[1] .. ':prioritized'",
        "local meta = 'bull:images:meta'",
        "local id = redis.call('HGET', KEYS[1], ':id')",
        "local job = 'prefix:' .. ARGV[1]",
        "local other = redis.call('GET', 'job:' .. ARGV[1])",
        "--[[ a block comment naming {fluxq}:job:1 and .. ':wait' is fine ]]",
        "redis.call('HINCRBY', KEYS[1], 'fail:' .. ARGV[1], 1)",
        "return {wait, prio, meta, id, job, other, '(' .. ARGV[1]}",
      ].join('\n'),
    });
    // Line 11 glues a hash field's name, not a key: not flagged.
    expect(checkLuaRules(root).map((v) => `${v.rule} ${v.file}:${v.line}`)).toEqual(
      [4, 5, 6, 7, 8, 9].map((line) => `own-keys packages/bad/src/lua/reach.lua:${line}`),
    );
  });

  it('reads keys named in comments as comments, not code', () => {
    expect(stripLuaComments("local a = 1 -- {fluxq}:x\nlocal s = '--not a comment'")).toBe(
      `local a = 1 ${' '.repeat(12)}\nlocal s = '--not a comment'`,
    );
  });
});
