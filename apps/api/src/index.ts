export { createApp } from './app.js';
export { buildApiDeps } from './build-deps.js';
export { type ApiConfig, apiEnvSchema, loadApiConfig } from './config.js';
export type { ApiDeps, ApiSettings } from './deps.js';
export { type JobView, viewJob } from './job-view.js';
