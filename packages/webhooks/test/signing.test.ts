import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  generateWebhookSecret,
  newWebhookMessageId,
  signedHeaders,
  WEBHOOK_MESSAGE_ID_PATTERN,
  WebhookSecretError,
  webhookSignature,
} from '../src/index.js';

const body = JSON.stringify({
  type: 'job.succeeded',
  timestamp: '2026-01-02T03:04:05.000Z',
  data: { id: 'job_1' },
});
const nowS = () => Math.floor(Date.now() / 1000);

describe('Standard Webhooks signing', () => {
  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('produces headers the reference library verifies', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders({ id: newWebhookMessageId(), timestampS: nowS(), body, secrets: [secret] });
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('signs exactly what the reference library signs', () => {
    const secret = generateWebhookSecret();
    const id = 'msg_2kWPBgLlAfxeT1jP7Ly5I8n7ZGZ';
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(webhookSignature(secret, id, at.getTime() / 1000, body)).toBe(
      new Webhook(secret).sign(id, at, body),
    );
  });

  it('matches the Standard Webhooks spec test vector', () => {
    // From standard-webhooks/libraries/javascript/src/webhook.test.ts.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = webhookSignature(
      secret,
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  describe('when a secret rotates', () => {
    it('puts one signature per secret in the header, each verifying with its own secret', () => {
      const current = generateWebhookSecret();
      const previous = generateWebhookSecret();
      const headers = signedHeaders({
        id: newWebhookMessageId(),
        timestampS: nowS(),
        body,
        secrets: [current, previous],
      });
      const signatures = headers['webhook-signature'].split(' ');
      expect(signatures).toHaveLength(2);
      expect(signatures.every((s) => s.startsWith('v1,'))).toBe(true);
      expect(new Webhook(current).verify(body, { ...headers })).toEqual(JSON.parse(body));
      expect(new Webhook(previous).verify(body, { ...headers })).toEqual(JSON.parse(body));
      expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
    });
  });

  it('fails verification when the body changes after signing', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders({ id: newWebhookMessageId(), timestampS: nowS(), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body.replace('job_1', 'job_2'), { ...headers })).toThrow();
  });

  it('refuses to sign without a secret, with a malformed one, or with fractional seconds', () => {
    expect(() => signedHeaders({ id: 'msg_1', timestampS: nowS(), body, secrets: [] })).toThrow(
      WebhookSecretError,
    );
    expect(() => webhookSignature('whsec_not base64!', 'msg_1', nowS(), body)).toThrow(WebhookSecretError);
    expect(() => webhookSignature('whsec_', 'msg_1', nowS(), body)).toThrow(WebhookSecretError);
    expect(() => webhookSignature(generateWebhookSecret(), 'msg_1', 1.5, body)).toThrow(RangeError);
  });

  it('mints msg_ ids that sort by creation time', () => {
    const early = newWebhookMessageId(Date.UTC(2026, 0, 1));
    const late = newWebhookMessageId(Date.UTC(2026, 0, 2));
    expect(early).toMatch(WEBHOOK_MESSAGE_ID_PATTERN);
    expect(late).toMatch(WEBHOOK_MESSAGE_ID_PATTERN);
    expect(early < late).toBe(true);
    expect(newWebhookMessageId()).not.toBe(newWebhookMessageId());
  });
});
