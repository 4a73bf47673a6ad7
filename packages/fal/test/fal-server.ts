/**
 * A tiny real HTTP server that answers like fal, from a script. Tests talk to it over
 * the loopback interface with the real global fetch: no fetch mocking.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/fal-ai/flux-2/requests/abc/status?logs=0`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and buffers as is. */
  body?: unknown;
  /** Never answer (the client's timeout or signal has to end the call). */
  hang?: boolean;
}

export type Script = (req: RecordedRequest, index: number) => Reply;

export interface FalServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFalServer(script: Script): Promise<FalServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const reply = script(recorded, requests.length - 1);
      if (reply.hang) return;
      const isRaw = typeof reply.body === 'string' || Buffer.isBuffer(reply.body);
      const payload =
        reply.body === undefined ? '' : isRaw ? (reply.body as string | Buffer) : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        ...(isRaw ? {} : { 'content-type': 'application/json' }),
        ...reply.headers,
      });
      res.end(payload);
    });
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

/** A port on which nothing listens (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const SUBMIT_OK = (id = 'req-1'): Reply => ({
  status: 200,
  body: {
    status: 'IN_QUEUE',
    request_id: id,
    queue_position: 3,
    response_url: `https://queue.fal.run/fal-ai/flux-2/requests/${id}`,
    status_url: `https://queue.fal.run/fal-ai/flux-2/requests/${id}/status`,
    cancel_url: `https://queue.fal.run/fal-ai/flux-2/requests/${id}/cancel`,
    logs: null,
    metrics: {},
  },
});

export const IMAGE_OUTPUT = {
  images: [{ url: 'https://v3.fal.media/files/a.png', width: 1024, height: 768, content_type: 'image/png' }],
  seed: 42,
  has_nsfw_concepts: [false],
  prompt: 'a fox',
  timings: { inference: 1.2 },
};

/** For one test file: `serve(script)` starts a scripted server, closed after each test. */
export function useFalServer(): (script: Script) => Promise<FalServer> {
  let server: FalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  return async (script) => {
    server = await startFalServer(script);
    return server;
  };
}

/** A fal key shaped like a real one. */
export const TEST_KEY = 'key-id:key-secret';

/** Small delays so retry tests stay fast. */
export const FAST_RETRY = { retryBaseDelayMs: 5, retryMaxDelayMs: 20 };
