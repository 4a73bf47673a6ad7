/** Progress of a batch as the edit command draws it. */
export interface ProgressSnapshot {
  succeeded: number;
  /** Failed and canceled. */
  failed: number;
  total: number;
  /** Requests whose outputs are on disk. */
  downloaded: number;
  costUsd: number;
  /** Estimated time to the end, when there is a rate to go by. Unit: ms. */
  etaMs?: number;
}

/** `m:ss`, or `h:mm:ss` from an hour. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** `$0.0123`. */
export function formatCost(usd: number): string {
  return `$${(Number.isFinite(usd) ? usd : 0).toFixed(4)}`;
}

/**
 * Time left at the rate seen so far in this run: `finished` requests out of `total`, of
 * which `finishedAtStart` were already done when it began, `elapsedMs` ago. Undefined
 * until something has finished in this run.
 */
export function estimateEta(finished: number, total: number, finishedAtStart: number, elapsedMs: number) {
  const progressed = finished - finishedAtStart;
  if (finished >= total) return 0;
  if (progressed <= 0 || elapsedMs <= 0) return undefined;
  return ((total - finished) * elapsedMs) / progressed;
}

export function formatProgress(p: ProgressSnapshot): string {
  const parts = [`${p.succeeded + p.failed}/${p.total} done`, `${p.failed} failed`, `${p.downloaded} saved`];
  if (p.succeeded + p.failed < p.total)
    parts.push(`ETA ${p.etaMs === undefined ? '?' : formatDuration(p.etaMs)}`);
  parts.push(formatCost(p.costUsd));
  return parts.join(', ');
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Draws the progress line on stderr: one line rewritten in place (`\r`) on a terminal,
 * otherwise a plain line: when the counts changed (at most every `minIntervalMs`), else every `intervalMs`.
 */
export class ProgressLine {
  private lastLine = '';
  private lastPrintedAt = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: {
      intervalMs?: number;
      minIntervalMs?: number;
      now?: () => number;
      prefix?: string;
    } = {},
  ) {}

  /** `force` prints a plain line even when one was printed just now (the final state). */
  update(snapshot: ProgressSnapshot, force = false): void {
    const line = `${this.options.prefix ?? 'fluxq: '}${formatProgress(snapshot)}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    const now = (this.options.now ?? Date.now)();
    // Compare without the ETA, which moves on every poll.
    const key = line.replace(/ETA [^,]*, /, '');
    const since = now - this.lastPrintedAt;
    const due =
      key !== this.lastLine
        ? since >= (this.options.minIntervalMs ?? 2_000)
        : since >= (this.options.intervalMs ?? 10_000);
    if (!due && !force) return;
    this.stream.write(`${line}\n`);
    this.lastLine = key;
    this.lastPrintedAt = now;
  }

  /** Ends the in-place line (a terminal) so the next output starts on its own line. */
  end(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
