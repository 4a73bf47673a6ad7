import { FluxqConnectionError } from './errors.js';

/**
 * The lines of a streamed body, decoded as UTF-8 across chunk boundaries (a line or a
 * character may be split between chunks). `\n` and `\r\n` both end a line; a last line
 * without one is still yielded. A connection lost mid-body is a `FluxqConnectionError`.
 */
export async function* readLines(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffered = '';
  try {
    for (;;) {
      const chunk = await reader.read().catch((err: unknown) => {
        if (signal?.aborted) throw signal.reason ?? err;
        throw new FluxqConnectionError('the response stream was cut off', { cause: err });
      });
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        yield buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    }
    buffered += decoder.decode();
    if (buffered) yield buffered.replace(/\r$/, '');
  } finally {
    // Stopping early (break, an error) releases the connection.
    await reader.cancel().catch(() => undefined);
  }
}

export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/** Server-sent events (`text/event-stream`); comment lines (heartbeats) are skipped. */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<ServerSentEvent> {
  let event = 'message';
  let id: string | undefined;
  let data: string[] = [];
  for await (const line of readLines(body, signal)) {
    if (line === '') {
      if (data.length > 0)
        yield id === undefined ? { event, data: data.join('\n') } : { event, data: data.join('\n'), id };
      event = 'message';
      id = undefined;
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
}
