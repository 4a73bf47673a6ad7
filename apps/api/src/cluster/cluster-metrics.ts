import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'fluxq:metrics-request';
const ANSWER = 'fluxq:metrics-answer';
/** A scrape that the primary does not answer in this long fails (Prometheus retries the next interval). */
const ANSWER_TIMEOUT_MS = 10_000;

interface MetricsAnswer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/**
 * What `GET /metrics` serves. A single API process: its own registry. One of several
 * (API_PROCESSES > 1): the whole cluster's, summed by the primary (prom-client's
 * AggregatorRegistry asks every process for its registry over IPC), so a scrape that lands
 * on any process sees every request counted once.
 */
export function metricsSource(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  // Answers the primary's requests for this process's metrics.
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  let next = 0;
  const pending = new Map<number, (answer: MetricsAnswer) => void>();
  process.on('message', (message: MetricsAnswer) => {
    if (message?.type === ANSWER) pending.get(message.id)?.(message);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(
        () => settle({ type: ANSWER, id, error: 'the primary did not answer' }),
        ANSWER_TIMEOUT_MS,
      );
      const settle = (answer: MetricsAnswer) => {
        clearTimeout(timer);
        pending.delete(id);
        if (answer.text !== undefined) resolve(answer.text);
        else reject(new Error(`cluster metrics: ${answer.error}`));
      };
      pending.set(id, settle);
      process.send?.({ type: REQUEST, id });
    });
}

/** In the primary: answers its processes' requests for the cluster's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text }),
      (err: unknown) => worker.send({ type: ANSWER, id: message.id, error: String(err) }),
    );
  });
}
