import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../src/index.js';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const secret = newSecret();
const id = 'msg_0mk2x9q7a1b2c3d4e5f6g7h8i9';
const event = {
  type: 'job.succeeded',
  timestamp: '2026-01-02T03:04:05.000Z',
  data: { id: 'job_1', status: 'succeeded' },
};
const body = JSON.stringify(event);
const nowMs = Date.UTC(2026, 0, 2, 3, 4, 6);
const now = () => nowMs;

/** Headers as fluxq sends them, signed by the reference library with `secrets` in order. */
function signed(payload = body, at = new Date(nowMs), secrets = [secret]) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, at, payload)).join(' '),
  };
}

/** The verification error `fn` throws (fails the test when it does not throw one). */
function failure(fn: () => unknown): WebhookVerificationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err;
    throw err;
  }
  throw new Error('expected a WebhookVerificationError');
}

describe('verifyWebhook', () => {
  describe('when the webhook is genuine', () => {
    it('returns the event signed by the reference Standard Webhooks library', () => {
      expect(verifyWebhook(signed(), body, secret, { now })).toEqual(event);
    });

    it('accepts the raw body as bytes (express.raw)', () => {
      expect(verifyWebhook(signed(), Buffer.from(body), secret, { now })).toEqual(event);
      expect(verifyWebhook(signed(), new TextEncoder().encode(body), secret, { now })).toEqual(event);
    });

    it('accepts a fetch Headers object', () => {
      expect(verifyWebhook(new Headers(signed()), body, secret, { now })).toEqual(event);
    });

    it('matches header names case-insensitively and reads repeated headers', () => {
      const h = signed();
      const headers = {
        'Webhook-Id': h['webhook-id'],
        'WEBHOOK-TIMESTAMP': [h['webhook-timestamp']],
        'webhook-signature': ['v1,bm9wZQ==', h['webhook-signature']],
      };
      expect(verifyWebhook(headers, body, secret, { now })).toEqual(event);
    });

    it('keeps non-ASCII bodies byte-exact', () => {
      const payload = JSON.stringify({
        type: 'job.failed',
        timestamp: event.timestamp,
        data: { prompt: 'café ☕' },
      });
      expect(verifyWebhook(signed(payload), Buffer.from(payload), secret, { now }).data).toEqual({
        prompt: 'café ☕',
      });
    });

    it('uses the real clock by default', () => {
      expect(verifyWebhook(signed(body, new Date()), body, secret)).toEqual(event);
    });
  });

  describe('when the secret rotates', () => {
    it('accepts the header when only the second signature matches', () => {
      const old = newSecret();
      const headers = signed(body, new Date(nowMs), [newSecret(), secret]);
      expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(verifyWebhook(headers, body, secret, { now })).toEqual(event);
      expect(failure(() => verifyWebhook(headers, body, old, { now })).reason).toBe('no_matching_signature');
    });

    it('ignores signatures of other schemes', () => {
      const h = signed();
      const v1a = h['webhook-signature'].replace('v1,', 'v1a,');
      expect(
        failure(() => verifyWebhook({ ...h, 'webhook-signature': v1a }, body, secret, { now })).reason,
      ).toBe('no_matching_signature');
    });
  });

  describe('when the webhook is not genuine', () => {
    it('rejects a tampered body', () => {
      const err = failure(() => verifyWebhook(signed(), body.replace('job_1', 'job_2'), secret, { now }));
      expect(err).toMatchObject({
        name: 'WebhookVerificationError',
        code: 'WEBHOOK_ERR_SIGNATURE',
        reason: 'no_matching_signature',
      });
      expect(err.message).toMatch(/no webhook-signature matches/);
    });

    it('rejects a re-serialised body', () => {
      const pretty = JSON.stringify(event, null, 2);
      expect(failure(() => verifyWebhook(signed(), pretty, secret, { now })).reason).toBe(
        'no_matching_signature',
      );
    });

    it('rejects the wrong secret', () => {
      expect(failure(() => verifyWebhook(signed(), body, newSecret(), { now })).reason).toBe(
        'no_matching_signature',
      );
    });

    it('rejects a changed webhook-id (the id is signed)', () => {
      const headers = { ...signed(), 'webhook-id': 'msg_other' };
      expect(failure(() => verifyWebhook(headers, body, secret, { now })).reason).toBe(
        'no_matching_signature',
      );
    });

    it('rejects a stale timestamp (replay)', () => {
      const headers = signed(body, new Date(nowMs - 301_000));
      const err = failure(() => verifyWebhook(headers, body, secret, { now }));
      expect(err.reason).toBe('timestamp_too_old');
      expect(err.message).toBe(
        'webhook-timestamp is 301 s old, more than the 300 s tolerance (replayed, or the clocks differ)',
      );
      // Within the tolerance it passes.
      expect(verifyWebhook(signed(body, new Date(nowMs - 299_000)), body, secret, { now })).toEqual(event);
    });

    it('rejects a timestamp from the future', () => {
      const err = failure(() =>
        verifyWebhook(signed(body, new Date(nowMs + 301_000)), body, secret, { now }),
      );
      expect(err.reason).toBe('timestamp_too_new');
      expect(err.message).toMatch(/^webhook-timestamp is 301 s in the future/);
    });

    it('honours a custom tolerance', () => {
      const headers = signed(body, new Date(nowMs - 60_000));
      expect(failure(() => verifyWebhook(headers, body, secret, { now, toleranceS: 30 })).reason).toBe(
        'timestamp_too_old',
      );
    });

    it('rejects a timestamp that is not whole seconds', () => {
      const headers = { ...signed(), 'webhook-timestamp': '2026-01-02T03:04:05Z' };
      expect(failure(() => verifyWebhook(headers, body, secret, { now })).reason).toBe('invalid_timestamp');
    });

    it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)(
      'rejects a missing %s',
      (name) => {
        const headers: Record<string, string | undefined> = { ...signed(), [name]: undefined };
        const err = failure(() => verifyWebhook(headers, body, secret, { now }));
        expect(err).toMatchObject({ reason: 'missing_header', message: `missing ${name} header` });
        const fetchHeaders = new Headers(signed());
        fetchHeaders.delete(name);
        expect(failure(() => verifyWebhook(fetchHeaders, body, secret, { now })).message).toBe(
          `missing ${name} header`,
        );
      },
    );

    it('rejects a correctly signed body that is not an event', () => {
      expect(failure(() => verifyWebhook(signed('not json'), 'not json', secret, { now })).reason).toBe(
        'invalid_body',
      );
      expect(failure(() => verifyWebhook(signed('[1]'), '[1]', secret, { now })).reason).toBe('invalid_body');
    });
  });

  it('throws a TypeError for a malformed secret (a configuration mistake, not a bad request)', () => {
    expect(() => verifyWebhook(signed(), body, 'whsec_not base64!', { now })).toThrow(TypeError);
  });
});
