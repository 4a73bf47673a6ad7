import http from 'node:http';
import https from 'node:https';

/**
 * A `fetch` for fal's queue calls (submit, status, result, cancel) on `node:http` with
 * keep-alive agents. undici's fetch costs a worker ~0.2–0.4 ms of CPU per request (its Request,
 * Headers and web-stream machinery); a plain request over a kept-alive socket ~0.05 ms, and a
 * worker makes three such calls per job (docs/perf/worker-profile.md).
 *
 * It does what those calls need and no more: a URL string, a method, plain-object headers, a
 * string or byte body, an abort signal; the answer is read whole into a standard `Response`.
 * A redirect is answered as it is, not followed (fal's queue API does not redirect, and a
 * re-sent submit could be billed twice). Anything else (another input type, a streamed body) goes
 * to the global fetch, as do downloads and uploads, which the client sends through `fetch`.
 */
export interface NodeHttpFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Closes the kept-alive sockets (idle ones never hold the process open). */
  close(): void;
}

export interface NodeHttpFetchOptions {
  /** Sockets per origin at most (the worker's concurrency is a good value). @defaultValue 256 */
  maxSockets?: number;
}

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function createNodeHttpFetch(options: NodeHttpFetchOptions = {}): NodeHttpFetch {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256 };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  const plainHeaders = (headers: RequestInit['headers']): Record<string, string> | undefined => {
    if (headers === undefined) return {};
    if (headers instanceof Headers || Array.isArray(headers)) return undefined;
    return headers as Record<string, string>;
  };

  const send = (
    url: URL,
    init: RequestInit,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
  ) =>
    new Promise<Response>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const request = transport.request(
        url,
        {
          method: init.method ?? 'GET',
          headers: body === undefined ? headers : { ...headers, 'content-length': String(byteLength(body)) },
          agent: agents[url.protocol as 'http:' | 'https:'],
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          // Cut off mid-body (an abort, a dropped socket): no 'end' will come.
          res.on('close', () => {
            if (!res.complete) reject(new Error('the connection closed before the response ended'));
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const responseHeaders = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2)
              responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            try {
              resolve(
                new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), {
                  status,
                  statusText: res.statusMessage ?? '',
                  headers: responseHeaders,
                }),
              );
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  const lean = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    const headers = plainHeaders(init.headers);
    const body = init.body ?? undefined;
    const simpleBody = body === undefined || typeof body === 'string' || body instanceof Uint8Array;
    if (!url || !headers || !simpleBody || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      return globalThis.fetch(input, init);
    }
    init.signal?.throwIfAborted();
    return send(url, init, headers, body);
  };

  return Object.assign(lean, {
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}

const byteLength = (body: string | Uint8Array) =>
  typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
