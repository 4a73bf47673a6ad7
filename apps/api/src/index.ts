export { type JobView, viewJob } from '@fluxq/core';
export { createJobEvents, type JobEvents } from '@fluxq/queue';
export { createApp } from './app.js';
export { buildApiDeps } from './build-deps.js';
export { type ApiConfig, apiEnvSchema, loadApiConfig } from './config.js';
export type { ApiDeps, ApiSettings } from './deps.js';
