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
  /** Requests finished per second in this run, when there is one to go by. */
  ratePerS?: number;
}

/** Width of the terminal bar, in cells. */
const BAR_WIDTH = 24;

/** `[██████░░░░░░]  40%`: the share of requests finished (succeeded or failed). */
export function formatBar(finished: number, total: number, width = BAR_WIDTH): string {
  const share = total > 0 ? Math.min(1, Math.max(0, finished / total)) : 1;
  const filled = Math.round(share * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/** `2.5/s`, or `0.12/s` below one a second. */
export function formatRate(perS: number): string {
  return `${perS >= 1 ? perS.toFixed(1) : perS.toFixed(2)}/s`;
}

/** Requests per second finished in this run (those done before it excluded); undefined before any. */
export function estimateRate(
  finished: number,
  finishedAtStart: number,
  elapsedMs: number,
): number | undefined {
  const progressed = finished - finishedAtStart;
  if (progressed <= 0 || elapsedMs <= 0) return undefined;
  return (progressed * 1000) / elapsedMs;
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
  if (p.ratePerS !== undefined) parts.push(formatRate(p.ratePerS));
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
 * Draws the progress on stderr: on a terminal one line with a bar, rewritten in place (`\r`);
 * otherwise a plain line when the counts changed (at most every `minIntervalMs`), else every
 * `intervalMs`; with `json`, the same throttling but one JSON object a line
 * (`{"type":"progress", succeeded, failed, total, downloaded, cost_usd, rate_per_s, eta_ms}`) for scripts.
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
      /** JSON lines instead of text, whatever the stream is. */
      json?: boolean;
    } = {},
  ) {}

  /** `force` prints a plain line even when one was printed just now (the final state). */
  update(snapshot: ProgressSnapshot, force = false): void {
    const line = `${this.options.prefix ?? 'fluxq: '}${formatProgress(snapshot)}`;
    if (this.stream.isTTY && !this.options.json) {
      const bar = formatBar(snapshot.succeeded + snapshot.failed, snapshot.total);
      this.stream.write(`\r${bar} ${line}\x1b[K`);
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
    this.stream.write(this.options.json ? `${JSON.stringify(progressEvent(snapshot))}\n` : `${line}\n`);
    this.lastLine = key;
    this.lastPrintedAt = now;
  }

  /** Ends the in-place line (a terminal) so the next output starts on its own line. */
  end(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

/** The `--json` progress event: snake_case like the API, null for what is not known yet. */
export function progressEvent(p: ProgressSnapshot) {
  return {
    type: 'progress' as const,
    succeeded: p.succeeded,
    failed: p.failed,
    total: p.total,
    downloaded: p.downloaded,
    cost_usd: p.costUsd,
    rate_per_s: p.ratePerS ?? null,
    eta_ms: p.etaMs === undefined ? null : Math.round(p.etaMs),
  };
}
