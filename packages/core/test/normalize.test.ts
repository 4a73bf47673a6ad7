import { describe, expect, it } from 'vitest';
import { FluxqError, type NormalizedRequest, normalizeImageRequest } from '../src/index.js';

const PNG_URI = 'data:image/png;base64,iVBORw0KGgo=';

function normalize(raw: Record<string, unknown>): NormalizedRequest {
  return normalizeImageRequest({ prompt: 'a red fox', ...raw });
}

function refusal(raw: unknown): { code: string; param: string | null; status: number } {
  try {
    normalizeImageRequest(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(FluxqError);
    const e = err as FluxqError;
    return { code: e.code, param: e.param, status: e.status };
  }
  throw new Error('expected a refusal');
}

describe('normalizeImageRequest', () => {
  describe('when choosing the output size', () => {
    it.each<[string, Record<string, unknown>, NormalizedRequest['size_rule']]>([
      ['generations default to 1024x1024 (1:1 at 1 MP)', {}, { kind: 'ratio', ratio: '1:1', megapixels: 1 }],
      [
        'edits default to the first input ratio at 1 MP',
        { images: [PNG_URI] },
        { kind: 'input', megapixels: 1 },
      ],
      ['size WxH is exact', { size: '1536x1024' }, { kind: 'exact', width: 1536, height: 1024 }],
      ['size W:H means aspect_ratio', { size: '16:9' }, { kind: 'ratio', ratio: '16:9', megapixels: 1 }],
      [
        'size wins over aspect_ratio',
        { size: '512x512', aspect_ratio: '16:9' },
        { kind: 'exact', width: 512, height: 512 },
      ],
      [
        'size wins over resolution',
        { size: '1024x512', resolution: '2K' },
        { kind: 'exact', width: 1024, height: 512 },
      ],
      [
        'size W:H takes its scale from resolution',
        { size: '3:2', resolution: '2K' },
        { kind: 'ratio', ratio: '3:2', megapixels: 4 },
      ],
      [
        'aspect_ratio snaps to the nearest supported ratio',
        { aspect_ratio: '1.91:1' },
        { kind: 'ratio', ratio: '16:9', megapixels: 1 },
      ],
      [
        'resolution alone keeps 1:1 for generations',
        { resolution: '0.5K' },
        { kind: 'ratio', ratio: '1:1', megapixels: 0.25 },
      ],
      [
        'resolution alone keeps the input ratio for edits',
        { images: [PNG_URI], resolution: 2 },
        { kind: 'input', megapixels: 2 },
      ],
      [
        '4K is capped at the model maximum',
        { resolution: '4K' },
        { kind: 'ratio', ratio: '1:1', megapixels: 4 },
      ],
      ['size "auto" means the default', { size: 'auto' }, { kind: 'ratio', ratio: '1:1', megapixels: 1 }],
    ])('%s', (_title, raw, rule) => {
      expect(normalize(raw).size_rule).toEqual(rule);
    });
  });

  describe('when mapping parameters to fal', () => {
    it('maps cfg_scale, prompt_enhancement and booleans, with multipart strings coerced', () => {
      const request = normalize({
        n: '3',
        seed: '42',
        cfg_scale: '3.5',
        prompt_enhancement: 'on',
        enable_safety_checker: 'false',
        sync_mode: true,
        output_format: 'JPG',
        output_compression: 80,
        response_format: 'b64_json',
      });
      expect(request).toMatchObject({
        n: 3,
        seed: 42,
        guidance_scale: 3.5,
        enable_prompt_expansion: true,
        enable_safety_checker: false,
        sync_mode: true,
        output_format: 'jpeg',
        output_compression: 80,
        response_format: 'b64_json',
      });
    });

    it('passes unknown scalar parameters through unchanged and keeps ours out', () => {
      const request = normalize({
        acceleration: 'high',
        num_inference_steps: 12,
        webhook_url: 'https://x.test/h',
      });
      expect(request.passthrough).toEqual({ acceleration: 'high', num_inference_steps: 12 });
    });

    it('defaults to Turbo, one png image as a URL, default priority', () => {
      expect(normalize({})).toMatchObject({
        model: 'flux.2-dev-turbo',
        operation: 'generate',
        n: 1,
        output_format: 'png',
        response_format: 'url',
        priority: 'default',
      });
    });

    it('reads images from image and images, in every accepted form', () => {
      const request = normalize({
        image: 'https://example.com/a.png',
        images: [{ image_url: PNG_URI }, 'upl_abcdefgh12345678'],
      });
      expect(request.operation).toBe('edit');
      expect(request.images).toEqual([
        { kind: 'url', url: 'https://example.com/a.png' },
        { kind: 'data', mime: 'image/png', base64: 'iVBORw0KGgo=' },
        { kind: 'upload', id: 'upl_abcdefgh12345678' },
      ]);
    });
  });

  describe('when the request is bad', () => {
    it.each<[string, unknown, string, string | null]>([
      ['no prompt', { model: 'flux.2-dev-turbo' }, 'missing_parameter', 'prompt'],
      ['an empty prompt', { prompt: '   ' }, 'missing_parameter', 'prompt'],
      ['a prompt over the limit', { prompt: 'x'.repeat(32_001) }, 'prompt_too_long', 'prompt'],
      ['a prompt that is not a string', { prompt: 42 }, 'missing_parameter', 'prompt'],
      ['a body that is not an object', [1, 2], 'invalid_request', null],
      ['five images', { prompt: 'p', images: Array(5).fill(PNG_URI) }, 'too_many_images', 'images'],
      ['size 100x100', { prompt: 'p', size: '100x100' }, 'invalid_size', 'size'],
      ['size 5000x5000', { prompt: 'p', size: '5000x5000' }, 'invalid_size', 'size'],
      ['size not a multiple of 16', { prompt: 'p', size: '1000x1000' }, 'invalid_size', 'size'],
      ['size gibberish', { prompt: 'p', size: 'huge' }, 'invalid_size', 'size'],
      ['an unknown model', { prompt: 'p', model: 'dall-e-9' }, 'unknown_model', 'model'],
      ['n=0', { prompt: 'p', n: 0 }, 'invalid_parameter', 'n'],
      ['n=11', { prompt: 'p', n: 11 }, 'invalid_parameter', 'n'],
      ['n=1.5', { prompt: 'p', n: 1.5 }, 'invalid_parameter', 'n'],
      ['output_format bmp', { prompt: 'p', output_format: 'bmp' }, 'invalid_parameter', 'output_format'],
      [
        'output_compression 101',
        { prompt: 'p', output_compression: 101 },
        'invalid_parameter',
        'output_compression',
      ],
      ['cfg_scale 21', { prompt: 'p', cfg_scale: 21 }, 'invalid_parameter', 'cfg_scale'],
      ['a negative seed', { prompt: 'p', seed: -1 }, 'invalid_parameter', 'seed'],
      [
        'response_format xml',
        { prompt: 'p', response_format: 'xml' },
        'invalid_parameter',
        'response_format',
      ],
      ['resolution 8K', { prompt: 'p', resolution: '8K' }, 'invalid_parameter', 'resolution'],
      ['aspect_ratio wide', { prompt: 'p', aspect_ratio: 'wide' }, 'invalid_parameter', 'aspect_ratio'],
      [
        'a data URI that is not base64',
        { prompt: 'p', images: ['data:image/png;base64,@@@'] },
        'invalid_image',
        'images',
      ],
      [
        'a data URI without ;base64',
        { prompt: 'p', images: ['data:image/png,abc'] },
        'invalid_image',
        'images',
      ],
      [
        'an ftp image URL',
        { prompt: 'p', images: ['ftp://example.com/a.png'] },
        'invalid_image_url',
        'images',
      ],
      [
        'an image URL with credentials',
        { prompt: 'p', images: ['https://user:pass@example.com/a.png'] },
        'invalid_image_url',
        'images',
      ],
      ['a relative image URL', { prompt: 'p', images: ['/a.png'] }, 'invalid_image', 'images'],
      ['a bad upload id', { prompt: 'p', images: ['upl_../../x'] }, 'invalid_image', 'images'],
      ["fal's own image_size", { prompt: 'p', image_size: 'square_hd' }, 'unknown_parameter', 'image_size'],
      ['a nested passthrough value', { prompt: 'p', loras: [{ path: 'x' }] }, 'invalid_parameter', 'loras'],
      ['a passthrough name with odd characters', { prompt: 'p', 'a-b': 1 }, 'unknown_parameter', 'a-b'],
    ])('refuses %s', (_title, raw, code, param) => {
      const result = refusal(raw);
      expect(result.code).toBe(code);
      expect(result.param).toBe(param);
      expect(result.status).toBeGreaterThanOrEqual(400);
      expect(result.status).toBeLessThan(500);
    });
  });
});
