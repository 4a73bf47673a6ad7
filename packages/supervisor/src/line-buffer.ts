import type { Readable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';
export type LineListener = (line: string, stream: OutputStream) => void;

/** The last `maxLines` lines of a process's output, plus live listeners. */
export interface LineBuffer {
  push(line: string, stream: OutputStream): void;
  /** A copy of the kept lines, oldest first. */
  lines(): string[];
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: LineListener): () => void;
}

const MAX_LINE_CHARS = 16_000;

export function createLineBuffer(maxLines: number): LineBuffer {
  const kept: string[] = [];
  const listeners = new Set<LineListener>();
  return {
    push(line, stream) {
      const text = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
      kept.push(text);
      if (kept.length > maxLines) kept.splice(0, kept.length - maxLines);
      for (const listener of listeners) listener(text, stream);
    },
    lines: () => [...kept],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Splits a stream into lines (LF or CRLF) and hands each to `onLine`, the last one too. */
export function pipeLines(stream: Readable, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
    partial = '';
  });
}

/** The last `count` lines, indented, for error messages. */
export function formatTail(lines: string[], count = 30): string {
  const tail = lines.slice(-count);
  return tail.length === 0 ? '  (no output)' : tail.map((line) => `  ${line}`).join('\n');
}
