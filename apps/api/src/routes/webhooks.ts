import { FluxqError } from '@fluxq/core';
import { enqueueDelivery } from '@fluxq/queue';
import { DELIVERY_ID_PATTERN, type DeliveryStatus, type WebhookDelivery } from '@fluxq/store';
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { requireJson, smallBody } from '../http/require-json.js';

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];
const MAX_RECOVER = 10_000;

/** A delivery as the API shows it: the log, not the stored job snapshot. */
export function viewDelivery({
  snapshot: _snapshot,
  tenant: _tenant,
  created_ms: _ms,
  step: _step,
  ...delivery
}: WebhookDelivery) {
  return { object: 'webhook_delivery' as const, ...delivery };
}

function parseLimit(value: unknown): number {
  if (value === undefined) return 20;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new FluxqError('invalid_parameter', 'limit must be an integer from 1 to 100', { param: 'limit' });
  }
  return limit;
}

function parseStatus(value: unknown): DeliveryStatus | undefined {
  if (value === undefined) return undefined;
  if (!STATUSES.includes(value as DeliveryStatus)) {
    throw new FluxqError('invalid_parameter', `status must be one of ${STATUSES.join(', ')}`, {
      param: 'status',
    });
  }
  return value as DeliveryStatus;
}

/** `since`: unix seconds or an ISO 8601 time. */
function parseSince(value: unknown): number {
  const asNumber = typeof value === 'number' ? value * 1000 : Number.NaN;
  const ms = Number.isFinite(asNumber)
    ? asNumber
    : typeof value === 'string'
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new FluxqError('invalid_parameter', 'since must be unix seconds or an ISO 8601 time', {
      param: 'since',
    });
  }
  return ms;
}

/**
 * The tenant's webhook settings and delivery log (DESIGN §7):
 * - `GET /v1/webhooks/secret`, `POST /v1/webhooks/secret/rotate` (the old secret keeps
 *   signing, next to the new one, for `WEBHOOK_SECRET_OVERLAP_S`);
 * - `GET /v1/webhooks/deliveries?job_id=&status=&limit=&after=`, `GET …/{id}`;
 * - `POST /v1/webhooks/deliveries/{id}/resend` and `POST /v1/webhooks/recover {since}`: the
 *   same event (same `webhook-id`) sent again on a fresh retry schedule;
 * - `GET /v1/webhooks/endpoints/disabled`, `POST /v1/webhooks/endpoints/enable {url}`:
 *   endpoints that answered 410 and are skipped until enabled again.
 */
export function webhooksRouter(deps: ApiDeps): Router {
  const router = Router();
  const { settings, deliveries, queue } = deps.webhooks;
  const json = requireJson(64 * 1024);

  const viewSecret = (secret: string, previousUntilMs: number | null) => ({
    object: 'webhook_secret' as const,
    secret,
    previous_secret_expires_at: previousUntilMs === null ? null : Math.floor(previousUntilMs / 1000),
  });

  const findDelivery = async (id: string, tenant: string) => {
    const delivery = DELIVERY_ID_PATTERN.test(id) ? await deliveries.get(id) : undefined;
    if (!delivery || delivery.tenant !== tenant) {
      throw new FluxqError('webhook_delivery_not_found', `no webhook delivery ${id.slice(0, 100)}`);
    }
    return delivery;
  };

  /** Sends a delivery again: a new round of the schedule, the same event id. */
  const resend = async (delivery: WebhookDelivery) => {
    const resends = delivery.resends + 1;
    await deliveries.update(delivery.id, {
      status: 'pending',
      resends,
      step: 0,
      next_attempt_at: Math.floor(deps.now() / 1000),
      completed_at: null,
      failure_reason: null,
    });
    await enqueueDelivery(queue, delivery.id, resends);
    return (await deliveries.get(delivery.id)) ?? delivery;
  };

  router.get('/v1/webhooks/secret', async (req, res) => {
    const { secret, previousUntilMs } = await settings.secret(req.tenant);
    res.json(viewSecret(secret, previousUntilMs));
  });

  router.post('/v1/webhooks/secret/rotate', smallBody(), async (req, res) => {
    const { secret, previousUntilMs } = await settings.rotate(req.tenant, deps.webhooks.secretOverlapMs);
    res.json(viewSecret(secret, previousUntilMs));
  });

  router.get('/v1/webhooks/deliveries', async (req, res) => {
    const jobId = typeof req.query.job_id === 'string' ? req.query.job_id : undefined;
    const after = typeof req.query.after === 'string' ? req.query.after : undefined;
    const page = await deliveries.list({
      tenant: req.tenant,
      jobId,
      status: parseStatus(req.query.status),
      limit: parseLimit(req.query.limit),
      after,
    });
    const last = page.data.at(-1);
    res.json({
      object: 'list',
      data: page.data.map(viewDelivery),
      has_more: page.hasMore,
      next_cursor: page.hasMore && last ? last.id : null,
    });
  });

  router.get('/v1/webhooks/deliveries/:id', async (req, res) => {
    res.json(viewDelivery(await findDelivery(req.params.id, req.tenant)));
  });

  router.post('/v1/webhooks/deliveries/:id/resend', smallBody<{ id: string }>(), async (req, res) => {
    const delivery = await findDelivery(req.params.id, req.tenant);
    if (delivery.status === 'pending') {
      throw new FluxqError(
        'invalid_request',
        'the delivery is still being attempted; resend it once it has ended',
      );
    }
    res.status(202).json(viewDelivery(await resend(delivery)));
  });

  router.post('/v1/webhooks/recover', ...json, async (req, res) => {
    const sinceMs = parseSince((req.body as Record<string, unknown> | undefined)?.since);
    const failed = await deliveries.list({
      tenant: req.tenant,
      status: 'failed',
      sinceMs,
      limit: MAX_RECOVER,
    });
    for (const delivery of failed.data) await resend(delivery);
    res
      .status(202)
      .json({ object: 'webhook_recovery', since: Math.floor(sinceMs / 1000), resent: failed.data.length });
  });

  router.get('/v1/webhooks/endpoints/disabled', async (req, res) => {
    const disabled = await settings.disabled(req.tenant);
    res.json({
      object: 'list',
      data: disabled.map(({ url, at, reason }) => ({ url, disabled_at: Math.floor(at / 1000), reason })),
    });
  });

  router.post('/v1/webhooks/endpoints/enable', ...json, async (req, res) => {
    const url = (req.body as Record<string, unknown> | undefined)?.url;
    if (typeof url !== 'string' || url.length === 0) {
      throw new FluxqError('missing_parameter', 'url is required', { param: 'url' });
    }
    const enabled = await settings.enable(req.tenant, url);
    res.json({ object: 'webhook_endpoint', url, enabled: true, was_disabled: enabled });
  });

  return router;
}
