#!/usr/bin/env node
/**
 * Monte Carlo of the fal simulator's latency model and fluxq's retry and hedge policy, in real
 * seconds, one job at a time (no budget, no load): picks policy settings before the slow
 * `npm run bench:tail` confirms them. A dev tool; nothing imports it.
 *
 *   node bench/tail/monte-carlo.mjs turbo '{"tq":0.94,"h":0.95}'
 *   node bench/tail/monte-carlo.mjs flash '{"tq":0.96,"h":0.95,"lateQ":0.6}'
 *
 * The simulator (apps/fal-sim/src/latency.ts, request-planner.ts): a request's end-to-end time
 * T is lognormal fitted to the model's seed p50/p95 and capped at 4 × p95; a share U(5 %, 20 %)
 * of it is queued; a failure (1 − success rate) comes after the queue part plus the running part
 * of a second draw. Policy settings (JSON, percentiles of the true distributions, which the
 * workers' tracker estimates):
 *   tq     queued hedge: a request still queued past this queue-time percentile gets a hedge, the
 *          two race to a runner and the one still queued is cancelled (1 = off)
 *   h      slow hedge past this percentile of time to result, counted from the job's start…
 *   hMin   …but never before the request itself reached this percentile (default 0.5)
 *   keepFirst  when the first request gets a runner before its queued hedge, keep the hedge too
 *          (only when the first queued past the keepQ queue-time percentile, default 0 = always)
 *   tq1, h1  a first request still queued at the tq1 queue-time percentile (but running by tq) is
 *          slow-hedged past the h1 percentile instead of h
 *   lateQ  a retry submitted when the job is older than this share of the p99 target also sends
 *          a second request at once, the two racing to a runner (off when absent)
 *   backoff  base of the full-jitter backoff between attempts, s (default 1; 0 = retry at once)
 *   o      fixed overhead per job (accept → submit, result → stored), s; lag: status-poll lag in
 *          a runner race, s (0.25 = a quarter of the 1 s poll; 0.1 = a tenth); retryGap, s
 *   N      jobs (default 400,000), seed; causes: 1 prints the late jobs by attempt history
 *          (Q queued hedge, S slow hedge, D doubled retry)
 *
 * Chosen for issue 17 (the defaults): {"tq":0.96,"h":0.95,"keepFirst":1,"lag":0.1,"backoff":0}.
 * Prints late % (past the p99 target), p99, submits and billed requests per delivered job,
 * hedges per job by trigger, and the late jobs by cause.
 */
const MODELS = {
  turbo: { p50: 2.476, p95: 13.297, success: 0.92, target: 16.6 },
  flash: { p50: 8.093, p95: 36.022, success: 0.982, target: 45.0 },
};
const model = MODELS[process.argv[2] ?? 'turbo'];
if (!model) throw new Error(`model: turbo or flash, got ${process.argv[2]}`);
const P = JSON.parse(process.argv[3] ?? '{}');

const mu = Math.log(model.p50);
const sigma = (Math.log(model.p95) - mu) / 1.645;
let state = (P.seed ?? 987654321) >>> 0 || 1;
const rnd = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
const draw = () => Math.min(Math.exp(mu + sigma * normal()), 4 * model.p95);
const share = () => 0.05 + 0.15 * rnd();

/** One fal request as the simulator plans it: queue time, time to its end, success. */
function request() {
  const total = draw();
  const queue = share() * total;
  if (rnd() < 1 - model.success) return { queue, end: queue + (1 - share()) * draw(), ok: false };
  return { queue, end: total, ok: true };
}

const sorted = (f) => {
  const a = Array.from({ length: 200_000 }, f);
  return a.sort((x, y) => x - y);
};
const totals = sorted(draw);
const queues = sorted(() => share() * draw());
const quantile = (a, q) => a[Math.min(a.length - 1, Math.floor(q * a.length))];

const overhead = P.o ?? 0.5;
const lag = P.lag ?? 0.25;
const retryGap = P.retryGap ?? 0.3;
const backoffBase = P.backoff ?? 1;
const queueAt = (P.tq ?? 1) < 1 ? quantile(queues, P.tq) : Infinity;
const slowAfter = (P.h ?? 1) < 1 ? quantile(totals, P.h) : Infinity;
const slowMin = quantile(totals, P.hMin ?? 0.5);
const queue1At = P.tq1 !== undefined ? quantile(queues, P.tq1) : Infinity;
const slowAfter1 = P.h1 !== undefined ? quantile(totals, P.h1) : slowAfter;
const keepAt = quantile(queues, P.keepQ ?? 0);
const lateAt = P.lateQ !== undefined ? P.lateQ * model.target : Infinity;

/**
 * One attempt started at `startAt` (s since the job's first submit): its racing requests, the
 * queued and slow hedges. Returns when it ended, whether it succeeded, and what it cost.
 */
function attempt(startAt, doubled) {
  const cost = { submits: 0, billed: 0, queued: 0, slow: 0, hedgeWon: 0, firstWon: 0, bothRan: 0 };
  const racers = [];
  const add = (at, hedge) => {
    const r = request();
    cost.submits++;
    racers.push({ at, r, runAt: at + r.queue, endAt: at + r.end, cancelAt: Infinity, hedge });
    return racers.at(-1);
  };
  /** Two requests racing to a runner: the one still queued when the other is seen running is cancelled. */
  const raceToRunner = (a, b) => {
    const first = a.runAt <= b.runAt ? a : b;
    const other = first === a ? b : a;
    const from = Math.max(a.at, b.at);
    const seenAt = Math.max(from, first.runAt) + rnd() * lag;
    if (first.endAt <= seenAt && !first.r.ok) return; // the winner already failed: no loser
    // keepFirst: the first request won but queued past the keepQ percentile (predicted slow): keep both.
    const keep = P.keepFirst && first === a && first.runAt - first.at > keepAt;
    if (other.runAt > seenAt + 0.03 && !keep) {
      other.cancelAt = seenAt + 0.03;
      cost[other === a ? 'hedgeWon' : 'firstWon']++;
    } else cost.bothRan++;
  };
  const primary = add(startAt, false);
  if (doubled) raceToRunner(primary, add(startAt, true));
  else if (primary.runAt > startAt + queueAt) {
    cost.queued++;
    raceToRunner(primary, add(startAt + queueAt + 0.03, true));
  }
  // The slow hedge: due once; sent if exactly one request is still out then.
  // A first request seen still queued at the earlier check (but running by the queued-hedge
  // point) is predicted slow: its slow hedge comes at the lower percentile h1.
  const queuedLong = primary.runAt > startAt + queue1At;
  const after = queuedLong ? slowAfter1 : slowAfter;
  const slowAt = Math.max(startAt + Math.min(after, slowMin), after);
  const alive = (x, t) => x.cancelAt > t && x.endAt > t;
  const out = racers.filter((x) => alive(x, slowAt));
  if (out.length === 1 && Number.isFinite(slowAt)) {
    // In the worker the timer is only armed for a first request of the chunk.
    if (!racers.some((x) => x.endAt <= slowAt && x.r.ok && x.cancelAt > x.endAt)) {
      cost.slow++;
      const hedge = add(slowAt, true);
      // Cancelled while still queued if the other finishes first.
      if (out[0].r.ok && out[0].endAt < hedge.runAt) hedge.cancelAt = out[0].endAt + 0.03;
    }
  }
  for (const x of racers) if (x.runAt < x.cancelAt) cost.billed++;
  const ends = racers
    .filter((x) => x.cancelAt > x.endAt || (x.runAt < x.cancelAt && x.endAt < x.cancelAt))
    .map((x) => ({ t: x.endAt, ok: x.r.ok }))
    .sort((a, b) => a.t - b.t);
  const win = ends.find((e) => e.ok);
  if (win) {
    // A winner cancels the slow hedge if it is still queued (unbilled).
    return { end: win.t, ok: true, cost };
  }
  return { end: Math.max(...ends.map((e) => e.t)), ok: false, cost };
}

const N = P.N ?? 400_000;
const latencies = [];
const causes = new Map();
const sum = {
  submits: 0,
  billed: 0,
  queued: 0,
  slow: 0,
  retries: 0,
  doubled: 0,
  hedgeWon: 0,
  firstWon: 0,
  bothRan: 0,
};
for (let job = 0; job < N; job++) {
  let now = 0;
  let done = false;
  let history = '';
  for (let a = 1; a <= 5 && !done; a++) {
    const doubled = a > 1 && now >= lateAt;
    if (doubled) sum.doubled++;
    const result = attempt(now, doubled);
    for (const k of ['submits', 'billed', 'queued', 'slow', 'hedgeWon', 'firstWon', 'bothRan'])
      sum[k] += result.cost[k];
    history += `${a > 1 ? ' → ' : ''}${result.cost.queued ? 'Q' : ''}${result.cost.slow ? 'S' : ''}${doubled ? 'D' : ''}${result.ok ? 'ok' : 'fail'}`;
    if (result.ok) {
      now = result.end;
      done = true;
    } else {
      sum.retries++;
      now = result.end + retryGap + rnd() * Math.min(30, backoffBase * 2 ** (a - 1));
    }
  }
  const total = now + overhead;
  latencies.push(total);
  if (total > model.target) causes.set(history, (causes.get(history) ?? 0) + 1);
}
latencies.sort((a, b) => a - b);
const late = [...causes.values()].reduce((a, b) => a + b, 0);
const per = (n) => (n / N).toFixed(3);
console.log(
  `${process.argv[2] ?? 'turbo'} ${JSON.stringify(P)} queueAt=${queueAt.toFixed(2)} slowAfter=${slowAfter.toFixed(2)}` +
    ` | late ${((100 * late) / N).toFixed(2)} % p99 ${quantile(latencies, 0.99).toFixed(2)}` +
    ` submits ${per(sum.submits)} billed ${per(sum.billed)} | hedges q ${per(sum.queued)} s ${per(sum.slow)}` +
    ` doubled ${per(sum.doubled)} retries ${per(sum.retries)} | races: hedge won ${per(sum.hedgeWon)} first won ${per(sum.firstWon)} both ran ${per(sum.bothRan)}`,
);
if (P.causes) {
  const top = [...causes].sort((a, b) => b[1] - a[1]).slice(0, 12);
  for (const [what, n] of top) console.log(`  ${((100 * n) / N).toFixed(3)} %  ${what}`);
}
