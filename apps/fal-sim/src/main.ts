import { ConfigError, loadConfig } from './config.js';
import { createFalSim } from './sim.js';

async function main(): Promise<void> {
  const options = loadConfig(process.env);
  const sim = await createFalSim(options);
  console.log(`fal-sim listening on ${sim.url}`);
  const stop = (signal: NodeJS.Signals) => {
    console.log(`fal-sim: ${signal}, shutting down`);
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('fal-sim: shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
