import { createServer } from 'node:net';

/** The worker's metrics port by default: Prometheus's registry lists 9464 for Node exporters. */
export const DEFAULT_METRICS_PORT = 9464;

/** Whether `port` on 127.0.0.1 can be listened on now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The port the worker serves `/healthz`, `/readyz` and `/metrics` on: METRICS_PORT when set,
 * else 9464, else (taken, e.g. by a second checkout's `npm start`) one the system picks, so a
 * busy port never stops the worker from starting.
 */
export async function chooseMetricsPort(env: NodeJS.ProcessEnv): Promise<string> {
  const set = env.METRICS_PORT?.trim();
  if (set) return set;
  return (await portIsFree(DEFAULT_METRICS_PORT)) ? String(DEFAULT_METRICS_PORT) : '0';
}
