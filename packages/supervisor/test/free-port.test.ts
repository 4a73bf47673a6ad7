import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getFreePort, repoRoot } from '../src/index.js';

describe('getFreePort', () => {
  it('returns a port that can be bound', async () => {
    const port = await getFreePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    server.close();
  });
});

describe('repoRoot', () => {
  it('is the directory with turbo.json', () => {
    expect(existsSync(join(repoRoot, 'turbo.json'))).toBe(true);
  });
});
