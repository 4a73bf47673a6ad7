import type { Request, Response } from 'express';
import type { SimContext } from './context.js';
import { defaultErrorBody } from './outcomes.js';
import type { FaultTarget } from './types.js';

/** Header fal sets on results so clients can tie a response to its request (fal.md §4.4). */
export const REQUEST_ID_HEADER = 'x-fal-request-id';

/** The URL clients reached the sim at: the configured public URL, else scheme + Host header. */
export function baseUrlOf(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** fal accepts `Authorization: Key <id:secret>`; the sim takes any non-empty key. */
export function requireKey(req: Request, res: Response): boolean {
  const header = req.get('authorization')?.trim() ?? '';
  const match = /^(?:Key|Bearer)\s+\S/i.exec(header);
  if (match) return true;
  res.status(401).json({
    detail: header ? 'Invalid authorization header, expected "Key <key>"' : 'Missing authorization header',
  });
  return false;
}

/**
 * Applies the first matching fault rule for an HTTP call. Returns true when the call has been
 * answered (or is being held open forever); false to carry on normally, possibly after a delay.
 */
export async function answerFault(
  ctx: SimContext,
  on: FaultTarget,
  endpoint: string | undefined,
  res: Response,
): Promise<boolean> {
  const rule = ctx.faults.take(on, endpoint);
  if (!rule) return false;
  ctx.stats.counters.faultsFired += 1;
  if (rule.delayMs) await sleep(rule.delayMs);
  // Closing the sim destroys the socket, which is the only way a hung call ends.
  if (rule.hang) return true;
  if (rule.reset) {
    // No HTTP answer at all: the client sees a transport error (ECONNRESET / "fetch failed").
    res.socket?.destroy();
    return true;
  }
  const headers = rule.headers ?? {};
  if (rule.malformed) {
    res
      .status(rule.status ?? 200)
      .set(headers)
      .type('application/json')
      .send('{"status": "IN_QUEUE", "request_id": "');
    return true;
  }
  if (rule.status === undefined) return false;
  const defaults: Record<string, string> = rule.status === 429 ? { 'Retry-After': '1' } : {};
  res
    .status(rule.status)
    .set({ ...defaults, ...headers })
    .json(rule.body ?? defaultErrorBody(rule.status));
  return true;
}

/** A delay that does not keep a closing process alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
