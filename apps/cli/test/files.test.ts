import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/args.js';
import { collectImages, globToRegExp, outputFileName, outputNames } from '../src/files.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fluxq-cli-files-'));
  await mkdir(join(root, 'photos', 'nested'), { recursive: true });
  for (const name of ['b.png', 'a.JPG', 'c.jpeg', 'd.webp', 'notes.txt', 'e.gif']) {
    await writeFile(join(root, 'photos', name), 'x');
  }
  await writeFile(join(root, 'photos', 'nested', 'deep.png'), 'x');
  await mkdir(join(root, 'other'));
  await writeFile(join(root, 'other', 'b.png'), 'x');
  await writeFile(join(root, 'other', 'one.png'), 'x');
  await writeFile(join(root, 'other', 'two.png'), 'x');
  await writeFile(join(root, 'other', 'two.jpg'), 'x');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('collectImages', () => {
  it('takes a directory’s png/jpg/jpeg/webp files, not recursively, named by file name', async () => {
    const images = await collectImages(['photos'], root);
    expect(images.map((image) => image.customId)).toEqual(['a.JPG', 'b.png', 'c.jpeg', 'd.webp']);
    expect(images[0]).toEqual({ file: join(root, 'photos', 'a.JPG'), customId: 'a.JPG', name: 'a' });
  });

  it('expands a * glob in the last segment, named relative to the working directory', async () => {
    const images = await collectImages(['other/t*.*'], root);
    expect(images.map((image) => [image.customId, image.name])).toEqual([
      ['other/two.jpg', 'other__two.jpg'],
      ['other/two.png', 'other__two.png'],
    ]);
  });

  it('takes an explicit file as it is, once even when named twice', async () => {
    const images = await collectImages(
      ['photos/e.gif', join(root, 'photos', 'e.gif'), 'photos/nested/deep.png'],
      root,
    );
    expect(images.map((image) => image.customId)).toEqual(['photos/e.gif', 'photos/nested/deep.png']);
    expect(images.map((image) => image.name)).toEqual(['photos__e', 'photos__nested__deep']);
  });

  it('refuses two inputs that would share a custom_id', async () => {
    await expect(collectImages(['photos', 'other'], root)).rejects.toThrow(/share the name b\.png/);
  });

  it('refuses missing paths, empty matches and globs in directory parts', async () => {
    await expect(collectImages(['missing.png'], root)).rejects.toThrow(UsageError);
    await expect(collectImages(['photos/*.tiff'], root)).rejects.toThrow(/no images/);
    await expect(collectImages(['*/b.png'], root)).rejects.toThrow(/last part/);
    await expect(collectImages([], root)).rejects.toThrow(/at least one/);
  });
});

describe('names', () => {
  it('globToRegExp matches * and ? within one segment, the rest literally', () => {
    expect(globToRegExp('*.png').test('a.png')).toBe(true);
    expect(globToRegExp('*.png').test('apng')).toBe(false);
    expect(globToRegExp('img-??.jpg').test('img-07.jpg')).toBe(true);
    expect(globToRegExp('img-??.jpg').test('img-7.jpg')).toBe(false);
    expect(globToRegExp('(a)+.png').test('(a)+.png')).toBe(true);
  });

  it('outputNames drops the extension unless two stems collide', () => {
    expect(Object.fromEntries(outputNames(['a.png', 'a.jpg', 'b.webp', 'x/c.png']))).toEqual({
      'a.png': 'a.png',
      'a.jpg': 'a.jpg',
      'b.webp': 'b',
      'x/c.png': 'x__c',
    });
  });

  it('outputFileName numbers the images of a multi-image request from 1', () => {
    expect(outputFileName('cat', 'webp', 0, 1)).toBe('cat.webp');
    expect(outputFileName('cat', 'png', 0, 3)).toBe('cat-1.png');
    expect(outputFileName('cat', 'png', 2, 3)).toBe('cat-3.png');
  });
});
