import type { Logger } from '@fluxq/core';
import type { FalQueueClient } from '@fluxq/fal';
import type { InputLimits } from '@fluxq/images';
import type { JobStore } from '@fluxq/queue';
import type { BlobStorage } from '@fluxq/storage';
import type { ImageFetchLimits } from './fetch-image-url.js';

/** Tunables of the image processor, all in ms unless named otherwise. */
export interface ProcessorSettings {
  /** Interval between fal status polls. */
  pollIntervalMs: number;
  /** An attempt fal has not finished by then is cancelled at fal and retried. */
  attemptTimeoutMs: number;
  /** `X-Fal-Request-Timeout`, seconds. */
  startTimeoutS: number;
  imageFetch: ImageFetchLimits;
  inputLimits: InputLimits;
}

/** Everything the processor talks to; tests build it from real parts. */
export interface ProcessorDeps {
  store: JobStore;
  storage: BlobStorage;
  fal: FalQueueClient;
  logger: Logger;
  settings: ProcessorSettings;
  /** Clock in ms; injectable for tests. */
  now: () => number;
}
