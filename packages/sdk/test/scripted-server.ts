import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: SeenRequest, res: ServerResponse, index: number) => unknown;

/** A real HTTP server on 127.0.0.1 that answers each request with `handler` and records it. */
export async function scriptedServer(handler: Handler) {
  const requests: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    requests.push(seen);
    try {
      await handler(seen, res, requests.length - 1);
    } catch (err) {
      res.destroy(err as Error);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function envelope(code: string, message: string, type: string, param: string | null = null) {
  return { error: { type, code, message, param } };
}

/** A job object in the API's shape. */
export function job(id: string, status = 'queued', extra: Record<string, unknown> = {}) {
  return {
    id,
    object: 'job',
    status,
    model: 'flux.2-dev-turbo',
    operation: 'generate',
    priority: 'default',
    created_at: 1_700_000_000,
    started_at: null,
    completed_at: null,
    input: {
      prompt: 'p',
      n: 1,
      response_format: 'url',
      output_format: 'png',
      size: '1024x1024',
      width: 1024,
      height: 1024,
      images: [],
    },
    output: null,
    error: null,
    attempts: 0,
    batch_id: null,
    metadata: {},
    webhook_url: null,
    webhook_events: null,
    timings: { queue_ms: null, provider_ms: null, total_ms: null },
    cost: { megapixels: 1, usd: 0.008 },
    ...extra,
  };
}
