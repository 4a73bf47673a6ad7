import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getFreePort } from '@fluxq/supervisor';

/** One request the receiver got, with the raw body (signatures cover the exact bytes). */
export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** How the receiver answers one request. */
export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (until the receiver closes). */
  hang?: boolean;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`; the port is reserved even while the receiver is not listening. */
  url: string;
  requests: ReceivedRequest[];
  /** Answers for the next requests, in order; after them, the fallback. */
  respondWith(...answers: ReceiverAnswer[]): void;
  /** The answer once the queued ones are used. @defaultValue 200 */
  setFallback(answer: ReceiverAnswer): void;
  /** Resolves with the requests once at least `count` have arrived (event-driven, no polling). */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Starts listening (when created with `listening: false`, connections are refused until then). */
  listen(): Promise<void>;
  /** Stops listening: later connections are refused. */
  stop(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 that records what it receives and answers as told: a
 * stand-in for a customer's webhook endpoint (down, slow, failing, gone, redirecting).
 */
export async function startWebhookReceiver(options: { listening?: boolean } = {}): Promise<WebhookReceiver> {
  const port = await getFreePort();
  const requests: ReceivedRequest[] = [];
  const events = new EventEmitter();
  const answers: ReceiverAnswer[] = [];
  let fallback: ReceiverAnswer = { status: 200, body: 'ok' };
  let server: Server | undefined;
  const open = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    );
    requests.push({
      path: req.url ?? '/',
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    });
    events.emit('request');
    const answer = answers.shift() ?? fallback;
    if (answer.hang) {
      open.add(res);
      return;
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
  };

  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith: (...next) => void answers.push(...next),
    setFallback: (answer) => {
      fallback = answer;
    },
    async waitForRequests(count, timeoutMs = 20_000) {
      const signal = AbortSignal.timeout(timeoutMs);
      while (requests.length < count) {
        try {
          await once(events, 'request', { signal });
        } catch {
          throw new Error(`the receiver got ${requests.length} of ${count} requests within ${timeoutMs} ms`);
        }
      }
      return requests.slice();
    },
    async listen() {
      if (server) return;
      server = createServer((req, res) => void handle(req, res));
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      const bound = (server.address() as AddressInfo).port;
      if (bound !== port) throw new Error(`receiver bound ${bound}, not ${port}`);
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (!closing) return;
      for (const res of open) res.destroy();
      open.clear();
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
  if (options.listening !== false) await receiver.listen();
  return receiver;
}
