import type { JobStatus } from '@fluxq/sdk';
import { commonOptions, intOption, parse, UsageError } from '../args.js';
import { makeClient } from '../client.js';
import { JOBS_HELP } from '../help.js';
import { EXIT, type Io } from '../io.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'];

export async function jobsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    status: { type: 'string' },
    batch: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
  });
  const [action, id, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(JOBS_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const client = makeClient(commonOptions(values, io.env));
  const print = (value: unknown) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  const needId = () => {
    if (!id || rest.length > 0) throw new UsageError(`usage: fluxq jobs ${action} <job id>`);
    return id;
  };
  switch (action) {
    case 'get':
      print(await client.jobs.get(needId(), { signal: io.signal }));
      return EXIT.ok;
    case 'cancel':
      print(await client.jobs.cancel(needId(), { signal: io.signal }));
      return EXIT.ok;
    case 'list': {
      if (id)
        throw new UsageError('usage: fluxq jobs list [--status S[,S]] [--batch ID] [--limit N] [--after ID]');
      const status = values.status?.split(',').map((s) => s.trim());
      const unknown = status?.find((s) => !STATUSES.includes(s));
      if (unknown) throw new UsageError(`--status must be among ${STATUSES.join(', ')}, got ${unknown}`);
      const page = await client.jobs.list(
        {
          status: status as JobStatus[] | undefined,
          batchId: values.batch,
          limit: intOption(values.limit, 'limit', 1, 100),
          after: values.after,
        },
        { signal: io.signal },
      );
      print(page);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown jobs action ${action}: use get, list or cancel`);
  }
}
