import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Express } from 'express';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { openApiPath } from '../src/openapi/document.js';
import { type ApiHarness, startApi } from './api-harness.js';

/**
 * The OpenAPI document (`GET /openapi.json`): valid OpenAPI 3.1 by a real validator, lists
 * every route the express app registers (walked from the router, so a new route without
 * docs fails here), and the `openai` client's request bodies validate against its schemas.
 */

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: object }> } }>>;
};

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  name?: string;
}

/** `METHOD /path` of every route in the app's router stack, nested routers included. */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths)
          for (const method of Object.keys(layer.route.methods)) out.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.name === 'router' && layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

describe('OpenAPI document', () => {
  let api: ApiHarness;
  let doc: Doc;
  beforeAll(async () => {
    api = await startApi();
    const response = await fetch(`${api.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Doc;
  });
  afterAll(async () => api?.close());

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every route the app registers', () => {
    const routes = registeredRoutes(createApp(api.deps));
    // Bull Board's own routes live under /admin/queues, documented as that one page.
    const ours = routes.filter((r) => !/ \/admin\/queues\/./.test(r));
    expect(ours.length).toBeGreaterThan(30);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const missing = ours
      .map((r) => {
        const [method, path] = r.split(' ') as [string, string];
        return `${method} ${openApiPath(path)}`;
      })
      .filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
  });

  it('accepts the request bodies the openai client sends for images.generate and images.edit', async () => {
    const sent: { path: string; body: unknown; type: string }[] = [];
    // The client's own HTTP layer, recorded: what it would put on the wire.
    const client = new OpenAI({
      apiKey: 'fq_unused',
      baseURL: `${api.url}/v1`,
      maxRetries: 0,
      fetch: async (url, init) => {
        const path = new URL(String(url)).pathname;
        const type =
          init?.body instanceof FormData
            ? 'multipart/form-data'
            : (new Headers(init?.headers).get('content-type') ?? '');
        const body =
          init?.body instanceof FormData
            ? Object.fromEntries(
                [...init.body.entries()].map(([k, v]) => [k, typeof v === 'string' ? v : 'file']),
              )
            : JSON.parse(String(init?.body));
        sent.push({ path, body, type });
        return new Response(JSON.stringify({ created: 1, data: [{ url: 'https://x.test/a.png' }] }), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    await client.images.generate({
      model: 'flux-2',
      prompt: 'a red fox',
      n: 2,
      size: '1024x1024',
      response_format: 'url',
    });
    await client.images.edit({
      model: 'flux-2',
      prompt: 'make it blue',
      image: new File([new Uint8Array([1, 2, 3])], 'in.png', { type: 'image/png' }),
      n: 1,
      size: '512x512',
    });
    expect(sent.map((s) => s.path)).toEqual(['/v1/images/generations', '/v1/images/edits']);

    const ajv = new Ajv2020({ strict: false });
    for (const request of sent) {
      const op = doc.paths[request.path]?.post;
      const mediaType = request.type.startsWith('multipart/') ? 'multipart/form-data' : 'application/json';
      const schema = op?.requestBody?.content[mediaType]?.schema;
      expect(schema, `${request.path} ${mediaType}`).toBeDefined();
      const validate = ajv.compile(schema as object);
      // Multipart fields are strings on the wire (the API parses numbers), so validate what they mean.
      const body =
        mediaType === 'multipart/form-data'
          ? Object.fromEntries(
              Object.entries(request.body as Record<string, string>).map(([k, v]) => [
                k,
                /^\d+$/.test(v) ? Number(v) : v,
              ]),
            )
          : request.body;
      expect(validate(body), `${JSON.stringify(body)} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    // And a body the API refuses is refused by the document too.
    const generate = ajv.compile(
      doc.paths['/v1/images/generations']!.post!.requestBody!.content['application/json']!.schema,
    );
    expect(generate({ prompt: 'x', n: 99 })).toBe(false);
    expect(generate({ n: 1 })).toBe(false);
  });

  it('documents the error envelope with the codes of each status, matching a real error answer', async () => {
    const ajv = new Ajv2020({ strict: false });
    const full = doc as unknown as { components: { schemas: { Error: object } } };
    ajv.addSchema(full.components.schemas.Error, '#/components/schemas/Error');
    const response = await fetch(`${api.url}/v1/jobs/job_nope`);
    const body = await response.json();
    expect(response.status).toBe(404);
    const op = doc.paths['/v1/jobs/{id}']!.get as unknown as {
      responses: Record<string, { content: Record<string, { schema: { allOf: object[] } }> }>;
    };
    const schema = op.responses['404']!.content['application/json']!.schema;
    const narrowed = schema.allOf[1] as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(narrowed.properties.error.properties.code.enum).toContain('job_not_found');
    expect(ajv.validate(full.components.schemas.Error, body), JSON.stringify(ajv.errors)).toBe(true);
    expect(ajv.validate(narrowed, body)).toBe(true);
  });

  it('serves /docs with the bundled reference, no CDN', async () => {
    const html = await (await fetch(`${api.url}/docs`)).text();
    expect(html).not.toMatch(/https?:\/\//);
    const init = await (await fetch(`${api.url}/docs/init.js`)).text();
    expect(init).toContain('"url":"/openapi.json"');
    expect(init).toContain('"withDefaultFonts":false');
    const script = await fetch(`${api.url}/docs/scalar.js`);
    expect(script.status).toBe(200);
    expect(Number(script.headers.get('content-length'))).toBeGreaterThan(100_000);
  });
});
