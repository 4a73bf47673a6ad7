import { connect } from 'node:net';

export interface RedisAddress {
  /** TCP port. */
  port: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * Deadline for connecting and reading the reply.
   * Unit: milliseconds.
   * @defaultValue 2_000
   */
  timeoutMs?: number;
}

/** A decoded RESP2 reply: simple/bulk strings, integers, nil, arrays. */
export type RedisReply = string | number | null | RedisReply[];

/** Redis answered with an error reply (`-ERR …`, `-NOAUTH …`). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
  readonly code = 'TESTING_ERR_REDIS_REPLY';
}

/**
 * Sends one command over a fresh raw TCP connection and returns the decoded reply. No
 * client library: for probing and for tests that poke at a server directly.
 */
export function redisCommand(address: RedisAddress, ...args: string[]): Promise<RedisReply> {
  const { port, host = '127.0.0.1', timeoutMs = 2_000 } = address;
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, reply?: RedisReply) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? null);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms to ${args[0] ?? 'command'}`)),
    );
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error(`${host}:${port} closed the connection without a reply`)));
    socket.once('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        const parsed = parseReply(buffer, 0);
        if (parsed) finish(undefined, parsed.value);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** Parses one reply at `offset`; `undefined` means more bytes are needed. */
function parseReply(buffer: Buffer, offset: number): { value: RedisReply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      throw new RedisReplyError(line);
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RedisReply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(
        `not a Redis reply: ${JSON.stringify(buffer.toString('utf8', offset, lineEnd).slice(0, 80))}`,
      );
  }
}
