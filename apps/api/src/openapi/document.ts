import { ERROR_CODES } from '@fluxq/core';
import { z } from 'zod';
import { API_ROUTES, type ApiRoute } from './routes.js';
import { errorEnvelope } from './schemas.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as OpenAPI 3.1's dialect of JSON Schema (2020-12), the shape a client sends or gets. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    // Preprocessors (string forms of numbers in multipart) document as the type they end as.
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** Express `/v1/jobs/:id` and `/v1/files/*key` as OpenAPI `/v1/jobs/{id}`, `/v1/files/{key}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/[:*]([A-Za-z_]+)/g, '{$1}');
}

/** The error envelope narrowed to the codes that travel with `status` (from `ERROR_CODES`). */
const errorResponse = (status: string, description: string) => {
  const codes = Object.entries(ERROR_CODES)
    .filter(([, code]) => String(code) === status)
    .map(([name]) => name);
  return {
    description,
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Error' },
            { properties: { error: { properties: { code: { enum: codes } } } } },
          ],
        },
      },
    },
  };
};

function operation(route: ApiRoute) {
  const params = [...openApiPath(route.path).matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const query = Object.entries(route.query ?? {}).map(([name, description]) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema: { type: 'string' },
  }));
  const responses: Record<string, unknown> = {
    [String(route.status ?? 200)]: {
      description: route.responseDescription ?? 'OK',
      content: route.responseContent
        ? { [route.responseContent]: { schema: { type: 'string' } } }
        : route.response
          ? { 'application/json': { schema: jsonSchema(route.response, 'output') } }
          : undefined,
    },
  };
  for (const status of route.errors ?? ['400', '401', '404', '429', '500']) {
    responses[status] = errorResponse(status, ERROR_STATUS_DESCRIPTIONS[status] ?? 'Error');
  }
  const requestBody = route.body
    ? {
        required: true,
        content: Object.fromEntries(
          (route.bodyTypes ?? ['application/json']).map((type) => [
            type,
            { schema: jsonSchema(route.body as z.ZodType, 'input') },
          ]),
        ),
      }
    : undefined;
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.public ? { security: [] } : {}),
    parameters: [...params, ...query, ...(route.headers ?? [])],
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

const ERROR_STATUS_DESCRIPTIONS: Record<string, string> = {
  '400': 'Invalid request (codes: invalid_json, missing_parameter, invalid_parameter, …)',
  '401': 'Missing or unknown API key (invalid_api_key)',
  '402': 'Daily spend limit reached (spend_limit_reached)',
  '403': 'Bad or expired file signature (invalid_signature)',
  '404': 'Not found (not_found, job_not_found, batch_not_found, …)',
  '409': 'Conflict (idempotency_in_flight, job_canceled)',
  '413': 'Too large (payload_too_large, image_too_large)',
  '415': 'Unsupported content type',
  '422': 'Idempotency-Key reused with another body (idempotency_key_reused)',
  '429': 'Rate or queue limit (rate_limited, queued_limit_reached); see Retry-After',
  '500': 'Internal error (never for bad input)',
  '502': 'fal failed (provider_error)',
  '503': 'Redis unavailable (redis_unavailable); see Retry-After',
  '504': 'fal timed out (provider_timeout)',
};

/** The OpenAPI 3.1 document of every route `createApp` registers, built from the zod schemas. */
export function buildOpenApiDocument(serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'fluxq',
      version: '0.1.0',
      description:
        'A job system for FLUX.2 image edits and generations on fal.ai. OpenAI-compatible `/v1/images/*` plus a native job API. Errors use OpenAI\'s envelope `{"error": {type, code, message, param}}`.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'fq_… API key; none in open mode' },
      },
      schemas: { Error: jsonSchema(errorEnvelope, 'output') },
    },
    paths,
  };
}
