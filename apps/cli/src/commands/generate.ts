import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  commonOptions,
  formatOption,
  IMAGE_OPTIONS,
  intOption,
  parse,
  sizeOption,
  UsageError,
} from '../args.js';
import { makeClient } from '../client.js';
import { downloadTo } from '../download.js';
import { outputFileName } from '../files.js';
import { GENERATE_HELP } from '../help.js';
import { EXIT, type Io } from '../io.js';
import { formatCost } from '../progress.js';

export async function generateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...IMAGE_OPTIONS,
    timeout: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(GENERATE_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1 || !positionals[0]?.trim()) {
    throw new UsageError('give the prompt as one argument: fluxq generate "<prompt>" --out DIR');
  }
  if (!values.out) throw new UsageError('--out DIR is required');
  const common = commonOptions(values, io.env);
  const format = formatOption(values.format);
  const size = sizeOption(values.size);
  const n = intOption(values.n, 'n', 1, 10);
  const timeoutS = intOption(values.timeout, 'timeout', 1, 86_400) ?? 600;
  const out = resolve(io.cwd, values.out);
  const client = makeClient(common);

  const created = await client.jobs.create(
    {
      prompt: positionals[0],
      ...(n ? { n } : {}),
      ...(values.model ? { model: values.model } : {}),
      ...(size ? { size } : {}),
      ...(format ? { output_format: format } : {}),
    },
    { signal: io.signal },
  );
  io.stderr.write(`fluxq: job ${created.id} ${created.status}\n`);
  const job = await client.jobs.wait(created.id, { signal: io.signal, timeoutMs: timeoutS * 1000 });
  const files: string[] = [];
  if (job.status === 'succeeded') {
    await mkdir(out, { recursive: true });
    const images = job.output?.images ?? [];
    const ext = format ?? job.input.output_format ?? 'png';
    for (const [index, image] of images.entries()) {
      const path = resolve(out, outputFileName(job.id, ext, index, images.length));
      await downloadTo(image.url, path, {
        baseUrl: common.baseUrl,
        apiKey: common.apiKey,
        signal: io.signal,
      });
      files.push(path);
    }
  }
  if (common.json) {
    io.stdout.write(`${JSON.stringify({ ...job, files })}\n`);
  } else if (job.status === 'succeeded') {
    for (const file of files) io.stdout.write(`${file}\n`);
    io.stderr.write(`fluxq: job ${job.id} succeeded, cost ${formatCost(job.cost.usd)}\n`);
  } else {
    const why = job.error ? `: ${job.error.code}: ${job.error.message}` : '';
    io.stderr.write(`fluxq: job ${job.id} ${job.status}${why}\n`);
  }
  return job.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}
