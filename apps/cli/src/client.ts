import { createClient, type FluxqClient } from '@fluxq/sdk';
import type { CommonOptions } from './args.js';

export function makeClient(options: CommonOptions): FluxqClient {
  return createClient({ baseURL: options.baseUrl, apiKey: options.apiKey });
}
