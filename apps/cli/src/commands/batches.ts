import { commonOptions, intOption, parse, UsageError } from '../args.js';
import { makeClient } from '../client.js';
import { BATCHES_HELP } from '../help.js';
import { EXIT, type Io } from '../io.js';

export async function batchesCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    limit: { type: 'string' },
    after: { type: 'string' },
  });
  const [action, id, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(BATCHES_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const client = makeClient(commonOptions(values, io.env));
  const print = (value: unknown) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  const needId = () => {
    if (!id || rest.length > 0) throw new UsageError(`usage: fluxq batches ${action} <batch id>`);
    return id;
  };
  switch (action) {
    case 'get':
      print(await client.batches.get(needId(), { signal: io.signal }));
      return EXIT.ok;
    case 'cancel':
      print(await client.batches.cancel(needId(), { signal: io.signal }));
      return EXIT.ok;
    case 'results':
      for await (const line of client.batches.results(needId(), { signal: io.signal })) {
        io.stdout.write(`${JSON.stringify(line)}\n`);
      }
      return EXIT.ok;
    case 'list':
      if (id) throw new UsageError('usage: fluxq batches list [--limit N] [--after ID]');
      print(
        await client.batches.list(
          { limit: intOption(values.limit, 'limit', 1, 100), after: values.after },
          { signal: io.signal },
        ),
      );
      return EXIT.ok;
    default:
      throw new UsageError(`unknown batches action ${action}: use get, list, results or cancel`);
  }
}
