export interface BannerInfo {
  /** Base URL clients use, e.g. `http://127.0.0.1:8080`. */
  apiUrl: string;
  /** Whether `API_KEYS`/`API_KEYS_FILE` is set (otherwise local open mode). */
  apiKeys: boolean;
  /** Redis URL with any password redacted, and where it came from. */
  redis: string;
  /** The simulator URL, or undefined when the worker calls fal.ai. */
  falSimUrl: string | undefined;
  storageDir: string;
  /** The worker's `/metrics`, or undefined when its port was picked at start (its log says it). */
  workerMetricsUrl?: string;
}

/** What `npm start` prints once the API answers: where it is and a request to paste. */
export function renderBanner(info: BannerInfo): string {
  const auth = info.apiKeys ? [`    -H "Authorization: Bearer $FLUXQ_API_KEY" \\`] : [];
  const authGet = info.apiKeys ? ' -H "Authorization: Bearer $FLUXQ_API_KEY"' : '';
  const body = '{"model":"flux.2-dev-turbo","prompt":"a lighthouse at dawn, watercolor","size":"1024x1024"}';
  return [
    '',
    'fluxq is running',
    '',
    `  API       ${info.apiUrl}`,
    info.apiKeys
      ? '  API key   required: one of API_KEYS / API_KEYS_FILE (export FLUXQ_API_KEY=<key> for the curl below)'
      : '  API key   none (local open mode — set API_KEYS to require keys)',
    `  Redis     ${info.redis}`,
    info.falSimUrl
      ? `  fal       simulator at ${info.falSimUrl} (set FAL_KEY to use fal.ai)`
      : '  fal       fal.ai (FAL_KEY is set)',
    `  Outputs   ${info.storageDir}`,
    `  Metrics   ${info.apiUrl}/metrics (API), ${info.workerMetricsUrl ?? "the worker's port in its log"} (worker)`,
    '',
    'Submit a job, then read it back with the id it returns:',
    '',
    `  curl -s ${info.apiUrl}/v1/jobs \\`,
    ...auth,
    `    -H 'Content-Type: application/json' \\`,
    `    -d '${body}'`,
    `  curl -s${authGet} ${info.apiUrl}/v1/jobs/<id>`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
