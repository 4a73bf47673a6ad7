import { UsageError } from './args.js';
import { batchesCommand } from './commands/batches.js';
import { editCommand } from './commands/edit.js';
import { generateCommand } from './commands/generate.js';
import { jobsCommand } from './commands/jobs.js';
import { webhooksCommand } from './commands/webhooks.js';
import { describeError } from './errors.js';
import { MAIN_HELP } from './help.js';
import { EXIT, type Io } from './io.js';

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  edit: editCommand,
  generate: generateCommand,
  jobs: jobsCommand,
  batches: batchesCommand,
  webhooks: webhooksCommand,
};

/** Runs one command line (without `node` and the script) and returns the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(MAIN_HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write('fluxq 0.1.0\n');
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`fluxq: unknown command ${name}\n${MAIN_HELP}`);
    return EXIT.usage;
  }
  try {
    return await command(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`fluxq ${name}: ${err.message}\n(see fluxq ${name} --help)\n`);
      return EXIT.usage;
    }
    if (io.signal.aborted) {
      io.stderr.write('fluxq: interrupted\n');
      return EXIT.interrupted;
    }
    const baseUrl = io.env.FLUXQ_BASE_URL;
    io.stderr.write(`fluxq ${name}: error: ${describeError(err, baseUrl)}\n`);
    return EXIT.failed;
  }
}
