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
/** p50/p95/p99 of one row as a small bar chart (inline SVG). */
function latencyChart(values) {
  const entries = Object.entries(values).filter(([, v]) => typeof v === 'number');
  if (entries.length === 0) return '';
  const max = Math.max(...entries.map(([, v]) => v)) || 1;
  const bars = entries
    .map(([label, v], i) => {
      const h = Math.max(1, (v / max) * 30);
      return `<rect x="${i * 34}" y="${32 - h}" width="28" height="${h}" fill="#175cd3"><title>${esc(label)} ${ms(v)}</title></rect><text x="${i * 34}" y="44">${esc(label)}</text>`;
    })
    .join('');
  return `<svg class="chart" width="${entries.length * 34}" height="46" role="img">${bars}</svg>`;
}

function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, `${prefix}${k}.`, out);
    else out[prefix + k] = v;
  }
  return out;
}

async function renderStats() {
  let stats;
  try {
    stats = await api('/v1/stats');
  } catch (err) {
    $('stats').textContent =
      err.status === 404
        ? 'No provider statistics on this server (GET /v1/stats answers 404).'
        : `Could not read stats: ${err.message}`;
    return;
  }
  const rows = Array.isArray(stats.data) ? stats.data : [];
  if (rows.length === 0) {
    $('stats').textContent = 'No traffic in the window yet.';
    return;
  }
  const flat = rows.map((row) => flatten(row));
  const columns = [...new Set(flat.flatMap((row) => Object.keys(row)))];
  const pick = (row, group) =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([k]) => k.startsWith(group) && /p(50|95|99)/.test(k))
        .map(([k, v]) => [k.slice(group.length).replace(/_ms$/, ''), v]),
    );
  $('stats').innerHTML = table(
    [...columns, 'fal latency', 'end-to-end'],
    flat.map((row) => {
      const falGroup =
        Object.keys(row)
          .find((k) => /fal.*p50/.test(k))
          ?.replace(/p50.*$/, '') ?? 'fal.';
      const e2eGroup =
        Object.keys(row)
          .find((k) => /e2e.*p50|end_to_end.*p50/.test(k))
          ?.replace(/p50.*$/, '') ?? 'e2e.';
      return `<tr>${columns.map((c) => `<td>${esc(typeof row[c] === 'number' && !Number.isInteger(row[c]) ? row[c].toFixed(3) : row[c])}</td>`).join('')}<td>${latencyChart(pick(row, falGroup))}</td><td>${latencyChart(pick(row, e2eGroup))}</td></tr>`;
    }),
  );
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
