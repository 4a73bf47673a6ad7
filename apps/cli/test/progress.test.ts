import { describe, expect, it } from 'vitest';
import {
  estimateEta,
  estimateRate,
  formatBar,
  formatCost,
  formatDuration,
  formatProgress,
  formatRate,
  ProgressLine,
  type ProgressSnapshot,
} from '../src/progress.js';

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  succeeded: 10,
  failed: 1,
  total: 30,
  downloaded: 9,
  costUsd: 0.0333,
  etaMs: 42_000,
  ...over,
});

describe('formatting', () => {
  it('formats durations and costs', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(42_400)).toBe('0:42');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatCost(0.03)).toBe('$0.0300');
    expect(formatCost(12.345678)).toBe('$12.3457');
    expect(formatCost(Number.NaN)).toBe('$0.0000');
  });

  it('estimates the time left from this run’s rate', () => {
    expect(estimateEta(10, 30, 0, 10_000)).toBe(20_000);
    // 5 were done before this run: 5 in 10 s, 20 to go.
    expect(estimateEta(10, 30, 5, 10_000)).toBe(40_000);
    expect(estimateEta(5, 30, 5, 10_000)).toBeUndefined();
    expect(estimateEta(30, 30, 30, 0)).toBe(0);
  });

  it('formats the progress line', () => {
    expect(formatProgress(snap())).toBe('11/30 done, 1 failed, 9 saved, ETA 0:42, $0.0333');
    expect(formatProgress(snap({ etaMs: undefined }))).toContain('ETA ?');
    expect(formatProgress(snap({ succeeded: 29, failed: 1, downloaded: 29 }))).toBe(
      '30/30 done, 1 failed, 29 saved, $0.0333',
    );
  });
});

describe('bar and rate', () => {
  it('fills the bar by the share finished', () => {
    expect(formatBar(0, 30, 10)).toBe(`[${'░'.repeat(10)}]   0%`);
    expect(formatBar(15, 30, 10)).toBe(`[${'█'.repeat(5)}${'░'.repeat(5)}]  50%`);
    expect(formatBar(30, 30, 10)).toBe(`[${'█'.repeat(10)}] 100%`);
    expect(formatBar(0, 0, 4)).toBe('[████] 100%');
  });

  it('measures the rate of this run only, and shows it in the line', () => {
    expect(estimateRate(10, 0, 4_000)).toBe(2.5);
    expect(estimateRate(10, 10, 4_000)).toBeUndefined();
    expect(formatRate(2.5)).toBe('2.5/s');
    expect(formatRate(0.125)).toBe('0.13/s');
    expect(formatProgress(snap({ ratePerS: 2.5 }))).toBe(
      '11/30 done, 1 failed, 9 saved, 2.5/s, ETA 0:42, $0.0333',
    );
  });
});

describe('ProgressLine', () => {
  it('writes JSON progress events with --json, even on a terminal', () => {
    const written: string[] = [];
    const line = new ProgressLine(
      { isTTY: true, write: (text: string) => written.push(text) },
      { json: true },
    );
    line.update(snap({ ratePerS: 2.5 }));
    line.update(snap({ succeeded: 29, failed: 1, etaMs: undefined }), true);
    line.end();
    expect(written.map((text) => JSON.parse(text))).toEqual([
      {
        type: 'progress',
        succeeded: 10,
        failed: 1,
        total: 30,
        downloaded: 9,
        cost_usd: 0.0333,
        rate_per_s: 2.5,
        eta_ms: 42_000,
      },
      {
        type: 'progress',
        succeeded: 29,
        failed: 1,
        total: 30,
        downloaded: 9,
        cost_usd: 0.0333,
        rate_per_s: null,
        eta_ms: null,
      },
    ]);
  });

  it('rewrites one line in place on a terminal', () => {
    const written: string[] = [];
    const line = new ProgressLine({ isTTY: true, write: (text: string) => written.push(text) });
    line.update(snap());
    line.update(snap({ succeeded: 11 }));
    line.end();
    expect(written).toEqual([
      `\r${formatBar(11, 30)} fluxq: 11/30 done, 1 failed, 9 saved, ETA 0:42, $0.0333\x1b[K`,
      `\r${formatBar(12, 30)} fluxq: 12/30 done, 1 failed, 9 saved, ETA 0:42, $0.0333\x1b[K`,
      '\n',
    ]);
  });

  it('prints plain lines, throttled, when not a terminal', () => {
    const written: string[] = [];
    let now = 1_000_000;
    const line = new ProgressLine(
      { isTTY: false, write: (text: string) => written.push(text) },
      { now: () => now, minIntervalMs: 2_000, intervalMs: 10_000 },
    );
    line.update(snap());
    now += 1_000;
    line.update(snap({ succeeded: 11 })); // changed, but too soon
    now += 1_500;
    line.update(snap({ succeeded: 12 })); // changed, 2.5 s later
    now += 5_000;
    line.update(snap({ succeeded: 12, etaMs: 1_000 })); // only the ETA moved
    now += 6_000;
    line.update(snap({ succeeded: 12 })); // unchanged, but 11 s since the last line
    line.update(snap({ succeeded: 12 }), true); // forced
    line.end();
    expect(written).toHaveLength(4);
    expect(written.every((text) => text.endsWith('\n') && !text.includes('\r'))).toBe(true);
    expect(written[1]).toContain('13/30 done');
  });
});
