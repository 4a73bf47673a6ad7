export { loadWorkerConfig, type WorkerConfig, workerEnvSchema } from './config.js';
export type { ProcessorDeps, ProcessorSettings } from './deps.js';
export { createImageWorker, type ImageWorkerOptions } from './images/image-worker.js';
export { createImageProcessor } from './images/processor.js';
