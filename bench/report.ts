import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '@fluxq/testing';

export interface Row {
  measure: string;
  fluxq: string;
  baseline: string;
  ratio: string;
}

export function table(rows: Row[]): string {
  const header = '| measure | fluxq | baseline (same run) | fluxq / baseline |\n|---|---|---|---|';
  return [header, ...rows.map((r) => `| ${r.measure} | ${r.fluxq} | ${r.baseline} | ${r.ratio} |`)].join(
    '\n',
  );
}

/**
 * Replaces the section between `<!-- bench:NAME -->` markers in BENCHMARKS.md (or
 * appends it), so each benchmark keeps its latest table without touching the others.
 */
export async function recordSection(name: string, body: string): Promise<void> {
  const file = join(repoRoot, 'BENCHMARKS.md');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nFigures are written by the benchmark commands themselves; each section names its command.\n';
  }
  const section = `${start}\n${body.trim()}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  text = pattern.test(text) ? text.replace(pattern, section) : `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, text);
}
