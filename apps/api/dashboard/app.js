// fluxq dashboard: plain browser JS, no build step, no dependencies. Talks to the same API
// the page is served from; with API keys the caller pastes one (kept in sessionStorage).

const KEY = 'fluxq.key';
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const usd = (v) => (typeof v === 'number' ? `$${v.toFixed(4)}` : '');
const ms = (v) =>
  typeof v === 'number' ? (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`) : '';
const time = (s) => (s ? new Date(s * 1000).toLocaleTimeString() : '');
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
/** At most this many jobs are listed (10 pages of 100). */
const MAX_JOBS = 1000;

function headers() {
  const key = sessionStorage.getItem(KEY);
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
  if (response.status === 401) throw Object.assign(new Error('unauthorized'), { status: 401 });
  const body = response.headers.get('content-type')?.includes('json')
    ? await response.json()
    : await response.text();
  if (!response.ok)
    throw Object.assign(new Error(body?.error?.message || response.statusText), { status: response.status });
  return body;
}

async function listAll(path, max) {
  const out = [];
  let cursor;
  do {
    const page = await api(`${path}?limit=100${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.data);
    cursor = page.has_more ? page.next_cursor || page.last_id : null;
  } while (cursor && out.length < max);
  return out.slice(0, max);
}

function table(headings, rows) {
  return `<table><thead><tr>${headings.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

// ---- usage ----
async function renderUsage() {
  const u = await api('/v1/usage');
  const limit = (v) => (v === null || v === undefined ? '∞' : v);
  $('usage').innerHTML =
    `spent today ${usd(u.spent_usd)} of ${u.daily_limit_usd === null ? '∞' : usd(u.daily_limit_usd)} · queued ${u.queued_jobs}/${limit(u.max_queued_jobs)} · running ${u.running_jobs}/${limit(u.max_running_jobs)} · ${limit(u.requests_per_minute)} requests/min`;
}

// ---- provider table (GET /v1/stats; absent on older servers) ----
const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '–');
/** A rate figure `{value, samples}` with its sample count. */
const rate = (f, show = pct) => (f ? `${show(f.value)} <small>n=${f.samples}</small>` : '');
/** p50 / p95 / p99 of a latency figure with its sample count. */
const quantiles = (f) =>
  f?.samples ? `${ms(f.p50_ms)} / ${ms(f.p95_ms)} / ${ms(f.p99_ms)} <small>n=${f.samples}</small>` : '–';

/**
 * A latency histogram as an inline SVG bar chart: one bar per bucket on a log time axis
 * (the buckets are log-spaced), height by count, p50/p95/p99 marked.
 */
function histogramChart(figure, label) {
  const buckets = figure?.histogram || [];
  if (buckets.length === 0) return '';
  const width = 180;
  const height = 36;
  // At least a decade of time on the axis, so one full bucket does not fill the chart.
  const first = Math.log(buckets[0].le_ms / 1.1);
  const last = Math.log(buckets[buckets.length - 1].le_ms);
  const pad = Math.max(0, Math.log(10) - (last - first)) / 2;
  const lo = first - pad;
  const hi = last + pad;
  const x = (msValue) => ((Math.log(msValue) - lo) / Math.max(hi - lo, 1e-9)) * (width - 4) + 2;
  const max = Math.max(...buckets.map((b) => b.count));
  const bars = buckets
    .map((b) => {
      const left = x(b.le_ms / 1.1);
      const h = Math.max(1, (b.count / max) * (height - 12));
      return `<rect x="${left.toFixed(1)}" y="${(height - 10 - h).toFixed(1)}" width="${Math.max(1.5, x(b.le_ms) - left - 0.5).toFixed(1)}" height="${h.toFixed(1)}" fill="#175cd3"><title>≤ ${ms(b.le_ms)}: ${b.count}</title></rect>`;
    })
    .join('');
  const marks = ['p50_ms', 'p95_ms', 'p99_ms']
    .filter((k) => typeof figure[k] === 'number' && figure[k] > 0)
    .map(
      (k) =>
        `<line x1="${x(figure[k]).toFixed(1)}" x2="${x(figure[k]).toFixed(1)}" y1="0" y2="${height - 10}" stroke="#b42318" stroke-width="1"><title>${k.slice(0, 3)} ${ms(figure[k])}</title></line>`,
    )
    .join('');
  return `<svg class="chart" data-chart="${esc(label)}" width="${width}" height="${height}" role="img" aria-label="${esc(label)} histogram">${bars}${marks}<text x="2" y="${height - 1}">${ms(Math.exp(lo))}</text><text x="${width - 2}" y="${height - 1}" text-anchor="end">${ms(Math.exp(hi))}</text></svg>`;
}

let statsWindow = '24h';

async function renderStats() {
  let stats;
  try {
    stats = await api(`/v1/stats?window=${statsWindow}&histogram=true`);
  } catch (err) {
    $('stats').textContent =
      err.status === 404
        ? 'No provider statistics on this server (GET /v1/stats answers 404).'
        : `Could not read stats: ${err.message}`;
    return;
  }
  const windows = ['1h', '24h', '7d', '30d']
    .map((w) => `<option${w === statsWindow ? ' selected' : ''}>${w}</option>`)
    .join('');
  const picker = `<label>window <select id="stats-window">${windows}</select></label> <small>${stats.tenant === null ? 'delivered: every tenant' : `delivered: ${esc(stats.tenant)}`} · fal: all traffic</small>`;
  const rows = Array.isArray(stats.data) ? stats.data : [];
  const body = rows.length
    ? table(
        [
          'model',
          'fal generation p50 / p95 / p99',
          'fal success',
          'fal first byte p50 / p95 / p99',
          'delivered',
          'end-to-end p50 / p95 / p99',
          'hedged',
          'retried',
          'submits / job',
          'cost / image',
        ],
        rows.map((row) => {
          const p = row.provider;
          const d = row.delivered;
          return `<tr data-stats-row="${esc(`${row.model}:${row.operation}`)}" data-delivered-jobs="${d.jobs}"><td>${esc(row.model)}<br><small>${esc(row.operation)}</small></td><td>${quantiles(p.generation)}<br>${histogramChart(p.generation, 'fal generation')}</td><td>${rate(p.success_rate)}</td><td>${quantiles(p.time_to_first_byte)}</td><td>${rate(d.success_rate)}</td><td>${quantiles(d.end_to_end)}<br>${histogramChart(d.end_to_end, 'end-to-end')}</td><td>${rate(d.hedge_rate)}</td><td>${rate(d.retry_rate)}</td><td>${rate(d.fal_submits_per_job, (v) => (typeof v === 'number' ? v.toFixed(2) : '–'))}</td><td>${rate(d.cost_per_image_usd, (v) => (typeof v === 'number' ? usd(v) : '–'))}</td></tr>`;
        }),
      )
    : `No traffic in the last ${esc(statsWindow)}.`;
  $('stats').innerHTML = `${picker}${body}`;
  $('stats-window').addEventListener('change', (event) => {
    statsWindow = event.target.value;
    renderStats().catch((err) => console.warn(err));
  });
}

// ---- batches ----
async function downloadResults(id) {
  const response = await fetch(`/v1/batches/${id}/results`, { headers: headers() });
  const blob = await response.blob();
  const link = Object.assign(document.createElement('a'), {
    href: URL.createObjectURL(blob),
    download: `${id}.jsonl`,
  });
  link.click();
  URL.revokeObjectURL(link.href);
}

async function renderBatches() {
  const batches = (await api('/v1/batches?limit=20')).data;
  $('batches').innerHTML = batches.length
    ? table(
        ['batch', 'status', 'progress', 'done', 'failed', 'canceled', 'ETA', 'cost so far', ''],
        batches.map((b) => {
          const c = b.request_counts;
          const ended = c.succeeded + c.failed + c.canceled;
          const pct = c.total ? Math.round((ended / c.total) * 100) : 100;
          const elapsedS = Date.now() / 1000 - b.created_at;
          const eta =
            ended > 0 && ended < c.total ? `${Math.round((elapsedS / ended) * (c.total - ended))} s` : '';
          return `<tr data-batch="${esc(b.id)}"><td>${esc(b.id)}</td><td class="s-${esc(b.status)}">${esc(b.status)}</td><td><span class="bar" role="progressbar" aria-valuenow="${pct}" data-pct="${pct}"><i style="width:${pct}%"></i></span> ${pct} %</td><td>${c.succeeded}/${c.total}</td><td>${c.failed}</td><td>${c.canceled}</td><td>${eta}</td><td>${usd(b.cost?.usd)}</td><td><button data-results="${esc(b.id)}">results</button></td></tr>`;
        }),
      )
    : 'No batches.';
}

// ---- jobs ----
const jobsById = new Map();
const thumbs = (images) =>
  (images || [])
    .slice(0, 4)
    .map((i) => (i.url ? `<img class="thumb" loading="lazy" alt="" src="${esc(i.url)}">` : ''))
    .join('');
const hedges = (job) =>
  (job.attempt_log || []).reduce(
    (n, a) => n + ((a.requests || []).length > 1 ? a.requests.length - 1 : 0),
    0,
  );

function jobRow(j) {
  return `<tr data-job="${esc(j.id)}"><td>${esc(j.id)}</td><td class="s-${esc(j.status)}">${esc(j.status)}</td><td>${esc(j.model)}</td><td>${esc(j.operation)}</td><td>${usd(j.cost?.usd)}</td><td>${ms(j.timings?.total_ms ?? j.timings?.e2e_ms)}</td><td>${j.attempts ?? ''}</td><td>${hedges(j)}</td><td>${thumbs(j.input?.images)}</td><td>${thumbs(j.output?.images)}</td><td>${time(j.created_at)}</td></tr>`;
}

async function renderJobs() {
  const jobs = await listAll('/v1/jobs', MAX_JOBS);
  jobsById.clear();
  for (const j of jobs) jobsById.set(j.id, j);
  $('jobs-count').textContent = `(${jobs.length}${jobs.length >= MAX_JOBS ? '+' : ''})`;
  $('jobs').innerHTML = jobs.length
    ? table(
        ['job', 'status', 'model', 'op', 'cost', 'time', 'attempts', 'hedges', 'input', 'output', 'created'],
        jobs.map(jobRow),
      )
    : 'No jobs.';
}

function renderDetail(j) {
  const images = (list, kind) =>
    (list || []).map((i) => `<img data-kind="${kind}" alt="${kind}" src="${esc(i.url)}">`).join('');
  $('detail-body').innerHTML = `<h3>${esc(j.id)} <span class="s-${esc(j.status)}">${esc(j.status)}</span></h3>
<p>${esc(j.model)} · ${esc(j.operation)} · cost ${usd(j.cost?.usd)} · attempts ${j.attempts ?? 0} · hedges ${hedges(j)}</p>
<p>${esc(j.input?.prompt)}</p>
<h4>Input</h4>${images(j.input?.images, 'input') || 'none'}
<h4>Output</h4><div id="detail-output">${images(j.output?.images, 'output') || 'not yet'}</div>
${j.error ? `<p class="s-failed">${esc(j.error.code)}: ${esc(j.error.message)}</p>` : ''}
<h4>Timings</h4><pre>${esc(JSON.stringify(j.timings, null, 1))}</pre>
<h4>Attempts</h4><pre>${esc(JSON.stringify(j.attempt_log, null, 1))}</pre>`;
}

/** Follows a job's server-sent events (fetch, so the API key travels in a header) until it ends. */
let following;
async function follow(id) {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  try {
    const response = await fetch(`/v1/jobs/${id}/events`, { headers: headers(), signal: controller.signal });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5))
          .join('\n');
        if (!data) continue;
        const job = JSON.parse(data);
        jobsById.set(job.id, job);
        if ($('detail').open) renderDetail(job);
      }
    }
  } catch (err) {
    if (err.name !== 'AbortError') console.warn('events', err);
  }
}

async function openDetail(id) {
  const job = await api(`/v1/jobs/${id}`);
  renderDetail(job);
  $('detail').showModal();
  if (!TERMINAL.has(job.status)) follow(id);
}

// ---- webhook deliveries ----
async function renderDeliveries() {
  const deliveries = (await api('/v1/webhooks/deliveries?limit=50')).data;
  $('deliveries').innerHTML = deliveries.length
    ? table(
        ['delivery', 'type', 'job', 'status', 'attempts', 'attempt log', ''],
        deliveries.map(
          (d) =>
            `<tr data-delivery="${esc(d.id)}"><td>${esc(d.id)}</td><td>${esc(d.type)}</td><td>${esc(d.job_id)}</td><td>${esc(d.status)}</td><td class="attempt-count">${(d.attempts || []).length}</td><td>${(d.attempts || []).map((a) => `${time(a.at)} ${a.status_code ?? esc(a.error)} ${a.duration_ms} ms`).join('<br>')}</td><td><button data-resend="${esc(d.id)}">resend</button></td></tr>`,
        ),
      )
    : 'No deliveries.';
}

// ---- wiring ----
async function refresh() {
  const started = performance.now();
  await Promise.all([renderUsage(), renderBatches(), renderJobs(), renderDeliveries()]);
  document.body.dataset.lastRenderMs = String(Math.round(performance.now() - started));
  document.body.dataset.ready = 'true';
}

let timer;
async function start() {
  try {
    await refresh();
  } catch (err) {
    if (err.status === 401) return askForKey(sessionStorage.getItem(KEY) ? 'That key was refused.' : '');
    throw err;
  }
  $('key-form').hidden = true;
  $('main').hidden = false;
  $('forget').hidden = !sessionStorage.getItem(KEY);
  renderStats();
  clearInterval(timer);
  timer = setInterval(() => refresh().catch((err) => console.warn(err)), 1500);
  setInterval(() => renderStats().catch(() => {}), 15000);
}

function askForKey(message) {
  $('main').hidden = true;
  $('key-form').hidden = false;
  $('key-error').textContent = message;
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('key').value.trim());
  start();
});
$('forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  location.reload();
});
$('detail-close').addEventListener('click', () => {
  following?.abort();
  $('detail').close();
});
document.addEventListener('click', (event) => {
  const target = event.target.closest('[data-job],[data-resend],[data-results]');
  if (!target) return;
  if (target.dataset.resend) {
    target.disabled = true;
    api(`/v1/webhooks/deliveries/${target.dataset.resend}/resend`, { method: 'POST' }).then(renderDeliveries);
  } else if (target.dataset.results) downloadResults(target.dataset.results);
  else openDetail(target.dataset.job);
});
start();
