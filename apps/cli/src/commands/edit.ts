import { mkdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Batch, type BatchResult, FluxqAPIError, type FluxqClient } from '@fluxq/sdk';
import {
  type CommonOptions,
  commonOptions,
  formatOption,
  IMAGE_OPTIONS,
  intOption,
  parse,
  sizeOption,
  UsageError,
} from '../args.js';
import { makeClient } from '../client.js';
import { DownloadError, downloadTo, runPool } from '../download.js';
import { apiErrorParts } from '../errors.js';
import { collectImages, outputFileName } from '../files.js';
import { EDIT_HELP } from '../help.js';
import { EXIT, type Io } from '../io.js';
import { estimateEta, estimateRate, formatCost, ProgressLine } from '../progress.js';
import { type EditParams, type EditState, loadState, newState, StateStore, statePath } from '../state.js';

export interface EditOptions extends CommonOptions {
  inputs: string[];
  prompt: string | undefined;
  model: string | undefined;
  size: string | undefined;
  format: string | undefined;
  n: number | undefined;
  out: string;
  resume: boolean;
  concurrency: number;
  pollIntervalMs: number;
}

/** The edit command's options, or a {@link UsageError}; undefined for `--help`. */
export function parseEditArgs(args: string[], env: NodeJS.ProcessEnv, cwd: string): EditOptions | undefined {
  const { values, positionals } = parse(args, {
    prompt: { type: 'string', short: 'p' },
    ...IMAGE_OPTIONS,
    resume: { type: 'boolean' },
    concurrency: { type: 'string', short: 'c' },
    'poll-interval': { type: 'string' },
  });
  if (values.help) return undefined;
  if (!values.out) throw new UsageError('--out DIR is required');
  if (!values.resume && !values.prompt) throw new UsageError('--prompt is required');
  if (!values.resume && positionals.length === 0) {
    throw new UsageError('name at least one image file, directory or glob');
  }
  if (values.prompt !== undefined && values.prompt.trim() === '') throw new UsageError('--prompt is empty');
  return {
    ...commonOptions(values, env),
    inputs: positionals,
    prompt: values.prompt,
    model: values.model,
    size: sizeOption(values.size),
    format: formatOption(values.format),
    n: intOption(values.n, 'n', 1, 10),
    out: resolve(cwd, values.out),
    resume: values.resume === true,
    concurrency: intOption(values.concurrency, 'concurrency', 1, 64) ?? 4,
    pollIntervalMs: intOption(values['poll-interval'], 'poll-interval', 50, 60_000) ?? 1_000,
  };
}

interface Failure {
  code: string;
  message: string;
}

/** What the run ended with; `--json` prints it as it is. */
export interface EditSummary {
  batch_id: string | null;
  batch_status: string | null;
  out_dir: string;
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  cost_usd: number;
  failures: Array<{ custom_id: string; file: string; code: string; message: string }>;
  interrupted: boolean;
}

const TERMINAL_BATCH = new Set(['completed', 'cancelled', 'failed', 'expired']);
/** Download passes an item may fail after the batch has ended, before it counts as failed. */
const MAX_DOWNLOAD_PASSES = 3;

export async function editCommand(args: string[], io: Io): Promise<number> {
  const options = parseEditArgs(args, io.env, io.cwd);
  if (!options) {
    io.stdout.write(EDIT_HELP);
    return EXIT.ok;
  }
  const run = new EditRun(options, io, makeClient(options));
  return run.run();
}

class EditRun {
  private store!: StateStore;
  private readonly failures = new Map<string, Failure>();
  private readonly downloadErrors = new Map<string, { passes: number; message: string }>();
  private readonly progress: ProgressLine;
  private batch: Batch | undefined;

  constructor(
    private readonly options: EditOptions,
    private readonly io: Io,
    private readonly client: FluxqClient,
  ) {
    this.progress = new ProgressLine(io.stderr, { json: options.json });
  }

  private get state(): EditState {
    return this.store.state;
  }

  private log(line: string): void {
    this.io.stderr.write(`fluxq: ${line}\n`);
  }

  async run(): Promise<number> {
    const { signal } = this.io;
    try {
      await this.prepare();
      await this.upload();
      await this.submit();
      if (this.state.batchId) await this.follow();
      return this.finish(false);
    } catch (err) {
      this.progress.end();
      if (signal.aborted) {
        await this.store?.save().catch(() => undefined);
        return this.finish(true);
      }
      throw err;
    }
  }

  /** Reads or starts the state file; checks the inputs against it. */
  private async prepare(): Promise<void> {
    const { options } = this;
    await mkdir(options.out, { recursive: true });
    const existing = await loadState(options.out);
    if (existing && !options.resume) {
      throw new UsageError(
        `${statePath(options.out)} exists (batch ${existing.batchId ?? 'not yet created'}): pass --resume to continue it, or choose another --out`,
      );
    }
    if (existing) {
      this.store = new StateStore(options.out, existing);
      const changed = (['prompt', 'model', 'size', 'format', 'n'] as const).filter(
        (key) => options[key] !== undefined && options[key] !== existing.params[key],
      );
      if (changed.length > 0)
        this.log(`resuming with the saved ${changed.join(', ')} (ignoring the new values)`);
      if (!existing.batchId && options.inputs.length > 0) await this.addInputs(existing);
      return;
    }
    if (!options.prompt)
      throw new UsageError(`--prompt is required (no state file in ${options.out} to resume)`);
    if (options.inputs.length === 0) throw new UsageError('name at least one image file, directory or glob');
    const params: EditParams = { prompt: options.prompt, format: options.format ?? 'png', n: options.n ?? 1 };
    if (options.model) params.model = options.model;
    if (options.size) params.size = options.size;
    const state = newState(params);
    this.store = new StateStore(options.out, state);
    await this.addInputs(state);
    await this.store.save();
  }

  /** The inputs named on the command line; a file changed since its upload is uploaded again. */
  private async addInputs(state: EditState): Promise<void> {
    const images = await collectImages(this.options.inputs, this.io.cwd);
    const items: EditState['items'] = {};
    for (const image of images) {
      const info = await stat(image.file);
      const before = state.items[image.customId];
      const same =
        before && before.file === image.file && before.size === info.size && before.mtimeMs === info.mtimeMs;
      items[image.customId] = same
        ? before
        : { file: image.file, name: image.name, size: info.size, mtimeMs: info.mtimeMs };
    }
    state.items = items;
  }

  private async upload(): Promise<void> {
    if (this.state.batchId) return;
    const todo = Object.entries(this.state.items).filter(([, item]) => !item.uploadId);
    const total = Object.keys(this.state.items).length;
    if (todo.length === 0) return;
    let done = total - todo.length;
    this.log(`uploading ${todo.length} of ${total} images`);
    await runPool(
      todo,
      this.options.concurrency,
      async ([customId, item]) => {
        const bytes = await readFile(item.file);
        try {
          const upload = await this.client.uploads.create(bytes, {
            filename: customId.split('/').pop(),
            signal: this.io.signal,
          });
          item.uploadId = upload.id;
          await this.store.save();
        } catch (err) {
          // The API refused this file (not an image, too big): the others go on without it.
          if (err instanceof FluxqAPIError && err.status < 500 && err.status !== 429 && err.status !== 401) {
            this.failures.set(customId, apiErrorParts(err));
            return;
          }
          throw err;
        }
        done++;
        if (this.io.stderr.isTTY) this.io.stderr.write(`\rfluxq: uploaded ${done}/${total}\x1b[K`);
      },
      this.io.signal,
    );
    if (this.io.stderr.isTTY) this.io.stderr.write('\n');
  }

  private async submit(): Promise<void> {
    if (this.state.batchId) {
      this.log(`resuming batch ${this.state.batchId}`);
      return;
    }
    const { params } = this.state;
    const requests = Object.entries(this.state.items)
      .filter(([customId, item]) => item.uploadId && !this.failures.has(customId))
      .map(([customId, item]) => ({ custom_id: customId, images: [item.uploadId!] }));
    if (requests.length === 0) return;
    const batch = await this.client.batches.create(
      {
        requests,
        defaults: {
          prompt: params.prompt,
          n: params.n,
          output_format: params.format as 'png',
          ...(params.model ? { model: params.model } : {}),
          ...(params.size ? { size: params.size } : {}),
        },
        metadata: { client: 'fluxq-cli' },
      },
      { signal: this.io.signal },
    );
    this.batch = batch;
    this.state.batchId = batch.id;
    await this.store.save();
    this.log(`batch ${batch.id}: ${requests.length} edits submitted`);
  }

  /** Polls the batch and saves every finished output until all have ended and are on disk. */
  private async follow(): Promise<void> {
    const batchId = this.state.batchId!;
    const { signal } = this.io;
    const startedAt = Date.now();
    let finishedAtStart: number | undefined;
    for (;;) {
      const batch = await this.client.batches.get(batchId, { signal });
      this.batch = batch;
      const counts = batch.request_counts;
      const finished = counts.succeeded + counts.failed + counts.canceled;
      finishedAtStart ??= finished;
      const terminal = TERMINAL_BATCH.has(batch.status) || finished >= counts.total;
      const seen = await this.collectResults(batchId, terminal);
      this.draw(batch, startedAt, finishedAtStart);
      const settled = this.state.downloaded.length + this.failedInBatch().length;
      if (terminal && (seen >= counts.total || TERMINAL_BATCH.has(batch.status)) && settled >= seen) break;
      await sleep(this.options.pollIntervalMs, undefined, { signal });
    }
    this.draw(this.batch!, startedAt, finishedAtStart, true);
    this.progress.end();
  }

  private failedInBatch(): string[] {
    return [...this.failures.keys()].filter((id) => this.state.items[id]?.uploadId);
  }

  private draw(batch: Batch, startedAt: number, finishedAtStart: number, force = false): void {
    const counts = batch.request_counts;
    const finished = counts.succeeded + counts.failed + counts.canceled;
    this.progress.update(
      {
        succeeded: counts.succeeded,
        failed: counts.failed + counts.canceled,
        total: counts.total,
        downloaded: this.state.downloaded.length,
        costUsd: batch.cost?.usd ?? 0,
        etaMs: estimateEta(finished, counts.total, finishedAtStart, Date.now() - startedAt),
        ratePerS: estimateRate(finished, finishedAtStart, Date.now() - startedAt),
      },
      force,
    );
  }

  /** One pass over the results: records failures, downloads new successes. Returns the lines seen. */
  private async collectResults(batchId: string, batchEnded: boolean): Promise<number> {
    const downloaded = new Set(this.state.downloaded);
    const todo: BatchResult[] = [];
    let seen = 0;
    for await (const result of this.client.batches.results(batchId, { signal: this.io.signal })) {
      seen++;
      if (result.status === 'succeeded') {
        if (!downloaded.has(result.custom_id) && !this.failures.has(result.custom_id)) todo.push(result);
      } else if (result.status === 'failed' || result.status === 'canceled') {
        this.failures.set(result.custom_id, {
          code: result.error?.code ?? result.status,
          message: result.error?.message ?? `the job was ${result.status}`,
        });
      }
    }
    await runPool(
      todo,
      this.options.concurrency,
      async (result) => {
        try {
          await this.save(result);
          this.downloadErrors.delete(result.custom_id);
        } catch (err) {
          if (!(err instanceof DownloadError)) throw err;
          // Signed URLs are re-issued on every read of the results: try again next poll.
          const before = this.downloadErrors.get(result.custom_id);
          const passes = (before?.passes ?? 0) + (batchEnded ? 1 : 0);
          this.downloadErrors.set(result.custom_id, { passes, message: err.message });
          if (passes >= MAX_DOWNLOAD_PASSES) {
            this.failures.set(result.custom_id, { code: 'download_failed', message: err.message });
          }
        }
      },
      this.io.signal,
    );
    return seen;
  }

  private async save(result: BatchResult): Promise<void> {
    const item = this.state.items[result.custom_id];
    const images = result.output?.images ?? [];
    const name = item?.name ?? result.custom_id.replace(/\//g, '__');
    const format = this.state.params.format;
    for (const [index, image] of images.entries()) {
      const path = resolve(this.options.out, outputFileName(name, format, index, images.length));
      await downloadTo(image.url, path, {
        baseUrl: this.options.baseUrl,
        apiKey: this.options.apiKey,
        signal: this.io.signal,
      });
    }
    this.state.downloaded.push(result.custom_id);
    await this.store.save();
  }

  private summary(interrupted: boolean): EditSummary {
    const items = this.state.items;
    const failures = [...this.failures].map(([customId, failure]) => ({
      custom_id: customId,
      file: items[customId]?.file ?? customId,
      ...failure,
    }));
    const total = Object.keys(items).length;
    return {
      batch_id: this.state.batchId ?? null,
      batch_status: this.batch?.status ?? null,
      out_dir: this.options.out,
      total,
      succeeded: this.state.downloaded.length,
      failed: failures.length,
      pending: Math.max(0, total - this.state.downloaded.length - failures.length),
      cost_usd: this.batch?.cost?.usd ?? 0,
      failures,
      interrupted,
    };
  }

  private finish(interrupted: boolean): number {
    const summary = this.summary(interrupted);
    if (this.options.json) {
      this.io.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      const out = this.io.stdout;
      if (interrupted) {
        out.write(
          `interrupted: ${summary.succeeded}/${summary.total} saved in ${summary.out_dir}` +
            (summary.batch_id ? `; batch ${summary.batch_id} keeps running on the server` : '') +
            `\nresume with: fluxq edit --resume --out ${summary.out_dir}\n`,
        );
      } else {
        out.write(
          `${summary.succeeded} succeeded, ${summary.failed} failed of ${summary.total}` +
            (summary.batch_id ? ` (batch ${summary.batch_id})` : '') +
            `, cost ${formatCost(summary.cost_usd)}\n`,
        );
        for (const failure of summary.failures) {
          out.write(
            `  failed: ${failure.custom_id} (${failure.file}): ${failure.code}: ${failure.message}\n`,
          );
        }
        out.write(`outputs in ${summary.out_dir}\n`);
      }
    }
    if (interrupted) return EXIT.interrupted;
    return summary.failed === 0 && summary.pending === 0 ? EXIT.ok : EXIT.failed;
  }
}
