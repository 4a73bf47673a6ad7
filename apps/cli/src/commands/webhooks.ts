import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WebhookVerificationError } from '@fluxq/sdk';
import { commonOptions, intOption, parse, UsageError } from '../args.js';
import { makeClient } from '../client.js';
import { WEBHOOKS_HELP } from '../help.js';
import { EXIT, type Io } from '../io.js';

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function webhooksCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    secret: { type: 'string' },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(WEBHOOKS_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (action !== 'listen' || rest.length > 0)
    throw new UsageError(`unknown webhooks action ${action}: use listen`);
  const port = intOption(values.port, 'port', 0, 65_535);
  if (port === undefined) throw new UsageError('--port is required');
  if (values.secret !== undefined && !values.secret.startsWith('whsec_')) {
    throw new UsageError('--secret must be the whsec_… signing secret');
  }
  const common = commonOptions(values, io.env);
  const secret = values.secret ?? (await makeClient(common).webhooks.secret({ signal: io.signal })).secret;

  const server = createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const body = await readBody(req);
    if (!body) {
      res.writeHead(413).end();
      return;
    }
    try {
      const event = verifyWebhook(req.headers, body, secret);
      res.writeHead(204).end();
      io.stdout.write(`${JSON.stringify({ id: req.headers['webhook-id'], ...event })}\n`);
    } catch (err) {
      const reason = err instanceof WebhookVerificationError ? err.message : (err as Error).message;
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${reason}\n`);
      io.stderr.write(`fluxq: rejected a webhook from ${req.socket.remoteAddress}: ${reason}\n`);
    }
  });
  server.listen(port, values.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  io.stderr.write(`fluxq: listening for webhooks on http://${address.address}:${address.port}/\n`);
  if (!io.signal.aborted) await once(io.signal, 'abort');
  server.close();
  server.closeAllConnections();
  return EXIT.ok;
}
