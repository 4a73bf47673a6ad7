import { z } from 'zod';
import { ERROR_CODES, imageRequestFields, JOB_STATUSES_FOR_DOCS } from './core-shapes.js';

/**
 * zod shapes of what the routes take and answer, for the OpenAPI document. Request bodies
 * reuse `imageRequestFields`, the schema `normalizeImageRequest` validates every image request
 * with, so the document cannot drift from the validation.
 */

const imageInput = z
  .string()
  .describe('An https URL, a data: URL, a `file_…`/`upl_…` upload id, or (multipart) a file part');

export const imageRequestBody = z
  .object({
    ...imageRequestFields,
    image: z.union([imageInput, z.array(imageInput)]).optional(),
    images: z.union([imageInput, z.array(imageInput)]).optional(),
    webhook_url: z.string().optional(),
    webhook_events: z.array(z.string()).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    custom_id: z.string().optional(),
    user: z.string().optional(),
  })
  // Up to 20 extra fields pass through to fal's model input.
  .catchall(z.union([z.string(), z.number(), z.boolean()]));

export const errorEnvelope = z.object({
  error: z.object({
    type: z.enum([
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'rate_limit_error',
      'insufficient_quota',
      'api_error',
    ]),
    code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]),
    message: z.string(),
    param: z.string().nullable(),
    // invalid_batch lists every bad line.
    errors: z
      .array(z.looseObject({ line: z.number().int(), code: z.string(), message: z.string() }))
      .optional(),
  }),
});

const imageData = z.object({
  url: z.string().optional(),
  b64_json: z.string().optional(),
  revised_prompt: z.string().optional(),
});

export const imagesResponse = z.object({
  created: z.number().int(),
  data: z.array(imageData),
  usage: z.looseObject({}).optional(),
});

export const job = z.looseObject({
  id: z.string(),
  object: z.literal('job'),
  status: z.enum(JOB_STATUSES_FOR_DOCS),
  model: z.string(),
  operation: z.enum(['edit', 'generate']),
  priority: z.string(),
  created_at: z.number().int(),
  started_at: z.number().int().nullable().optional(),
  completed_at: z.number().int().nullable().optional(),
  queue_position: z
    .number()
    .int()
    .nullable()
    .optional()
    .describe(
      'Queued jobs: jobs granted a fal slot before this one by the scheduler’s rules, given the running-job leases held now (null once running)',
    ),
  estimated_start_at: z
    .number()
    .int()
    .nullable()
    .optional()
    .describe('Queued jobs: when it should start, unix seconds, from the tracked grant rate'),
  input: z.looseObject({ images: z.array(z.looseObject({})) }),
  output: z
    .looseObject({ images: z.array(z.looseObject({ url: z.string() })) })
    .nullable()
    .optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable().optional(),
  attempts: z.number().int().optional(),
  batch_id: z.string().nullable().optional(),
  timings: z.looseObject({}),
  attempt_log: z.array(z.looseObject({})).optional(),
  cost: z.looseObject({}).nullable().optional(),
});

export const quote = z.looseObject({ object: z.literal('quote') });

const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    has_more: z.boolean(),
    first_id: z.string().nullable().optional(),
    last_id: z.string().nullable().optional(),
    next_cursor: z.string().nullable().optional(),
  });

export const jobList = listOf(job);

export const batchBody = z.object({
  requests: z.array(imageRequestBody).describe('One request per line; or send OpenAI Batch JSONL as text'),
  webhook_url: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  priority: z.enum(['interactive', 'default', 'bulk']).optional(),
});

export const batch = z.looseObject({
  id: z.string(),
  object: z.literal('batch'),
  status: z.string(),
  request_counts: z.looseObject({
    total: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    canceled: z.number(),
  }),
  estimated_completed_at: z
    .number()
    .int()
    .nullable()
    .optional()
    .describe('While in progress: when its last job should be done, unix seconds, from the grant rate'),
});
export const batchList = listOf(batch);

export const upload = z.looseObject({ id: z.string(), object: z.literal('upload') });
export const model = z.looseObject({ id: z.string(), object: z.literal('model') });
export const modelList = z.object({ object: z.literal('list'), data: z.array(model) });

export const usage = z.object({
  object: z.literal('usage'),
  date: z.string(),
  spent_usd: z.number(),
  daily_limit_usd: z.number().nullable(),
  queued_jobs: z.number().int(),
  max_queued_jobs: z.number().int().nullable(),
  running_jobs: z.number().int(),
  max_running_jobs: z.number().int().nullable(),
  requests_per_minute: z.number().nullable(),
});

export const webhookSecret = z.looseObject({ object: z.string() });
export const delivery = z.looseObject({ id: z.string(), object: z.literal('webhook_delivery') });
export const deliveryList = listOf(delivery);
export const recoverBody = z.looseObject({ since: z.number().int().optional() });
export const enableBody = z.object({ url: z.string() });
export const anyObject = z.looseObject({});

/** A latency figure of `GET /v1/stats`: quantiles from a log-bucketed histogram (±10 %). */
const latencyFigure = z.object({
  samples: z.number().int().describe('Samples in the histogram'),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
  p99_ms: z.number().nullable(),
  histogram: z
    .array(z.object({ le_ms: z.number(), count: z.number().int() }))
    .optional()
    .describe('Non-empty buckets by upper bound (with `histogram=true`)'),
});
/** A ratio and the count it is a ratio of. */
const rateFigure = z.object({ value: z.number().nullable(), samples: z.number().int() });

export const statsRow = z.object({
  object: z.literal('provider_stats'),
  window: z.enum(['1h', '24h', '7d', '30d']),
  model: z.string(),
  operation: z.enum(['generate', 'edit']),
  provider: z
    .object({
      requests: z.number().int().describe('fal requests that reached an end (result, error or lost)'),
      success_rate: rateFigure.describe('Completed / reached an end'),
      generation: latencyFigure.describe('Submit → result of completed first requests'),
      time_to_first_byte: latencyFigure.describe('Submit → fal reported the request in progress'),
    })
    .describe("fal's side, from every tenant's traffic"),
  delivered: z
    .object({
      jobs: z.number().int().describe('Jobs that ended (succeeded or failed)'),
      succeeded: z.number().int(),
      failed: z.number().int(),
      success_rate: rateFigure,
      end_to_end: latencyFigure.describe('Accepted → stored, of succeeded jobs'),
      hedge_rate: rateFigure.describe('Jobs with a hedge sent / jobs'),
      retry_rate: rateFigure.describe('Jobs that took more than one attempt / jobs'),
      fal_submits_per_job: rateFigure.describe('fal requests submitted / succeeded jobs'),
      cost_per_image_usd: rateFigure.describe('Price of delivered images / images (samples: images)'),
    })
    .describe("What fluxq delivered: the caller's tenant, or every tenant for the admin key"),
});
export const statsList = z.object({
  object: z.literal('list'),
  window: z.enum(['1h', '24h', '7d', '30d']),
  since: z.number().int().describe('Unix seconds: start of the first bucket read'),
  tenant: z.string().nullable().describe('Whose delivered figures; null = every tenant'),
  data: z.array(statsRow),
});
