import { createServer, type Server } from 'node:http';
import { createFalWebhookVerifier } from '@fluxq/fal';
import { type createRedis, publishFalCompletion } from '@fluxq/queue';
import { claimFalWebhook } from '@fluxq/store';

/** The connection type of `createRedis` (apps reach Redis only through @fluxq/queue). */
type Redis = ReturnType<typeof createRedis>;

/** What the relay did with one of fal's completion webhooks. */
export interface RelayedWebhook {
  requestId: string | undefined;
  /** Verified against the simulator's JWKS and published to the waiting workers. */
  published: boolean;
}

export interface FalWebhookRelay {
  relayed: RelayedWebhook[];
  close(): Promise<void>;
}

/**
 * Stands in for the API's `POST /fal/webhook` in a test without the API: fal's (the
 * simulator's) completion webhook is verified by its ED25519 signature, claimed once and
 * published with the queue package's functions, as the route does, so the in-process worker
 * is woken exactly as in production. A webhook that does not verify is answered 401 and
 * wakes nobody.
 */
export async function startFalWebhookRelay(options: {
  port: number;
  jwksUrl: string;
  redis: Redis;
}): Promise<FalWebhookRelay> {
  const verifier = createFalWebhookVerifier({ jwksUrl: options.jwksUrl });
  const relayed: RelayedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const verdict = await verifier.verify(req.headers, body);
        if (!verdict.ok) {
          relayed.push({ requestId: undefined, published: false });
          res.writeHead(401).end();
          return;
        }
        const { status } = JSON.parse(body.toString('utf8')) as { status: 'OK' | 'ERROR' };
        const first = await claimFalWebhook(options.redis, verdict.requestId);
        if (first) await publishFalCompletion(options.redis, { requestId: verdict.requestId, status });
        relayed.push({ requestId: verdict.requestId, published: first });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    relayed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
