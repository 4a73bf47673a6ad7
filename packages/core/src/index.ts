export {
  type AttemptLogEntry,
  type AttemptOutcome,
  attemptTotals,
  type HedgeDecision,
  type HedgeLogEntry,
  type HedgeTrigger,
  type RequestLogEntry,
  type RequestOutcome,
  viewAttemptLog,
} from './attempt-log.js';
export { bearerMatches } from './bearer.js';
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorEnvelope,
  type ErrorType,
  FluxqError,
  isFluxqError,
  JOB_ERROR_CODES,
  type JobErrorCode,
} from './errors.js';
export { JOB_ID_PATTERN, newId, newIds } from './ids.js';
export {
  type ImageInput,
  type ImageInputProblem,
  parseImageInput,
  UPLOAD_ID_PATTERN,
} from './image-input.js';
export {
  type FalRequestRef,
  type ImageJobData,
  isTerminalStatus,
  type JobError,
  type JobInput,
  type JobOutput,
  type JobRecord,
  type JobStatus,
  type JobTimings,
  type OutputImage,
  type StoredInput,
  TERMINAL_JOB_STATUSES,
  unixSeconds,
} from './job.js';
export { type NewJob, newJobRecord } from './job-record.js';
export { type FileUrlProvider, type JobPlace, type JobView, type ViewContext, viewJob } from './job-view.js';
export {
  DEFAULT_MODEL_ID,
  isModelId,
  type LatencyPrior,
  MODEL_IDS,
  MODELS,
  type ModelId,
  type ModelInfo,
  modelForFalEndpoint,
  type Operation,
} from './models.js';
export {
  type ImageParams,
  knownOutputSize,
  MAX_PASSTHROUGH_FIELDS,
  type NormalizedRequest,
  normalizeImageRequest,
  type PassthroughValue,
} from './normalize.js';
export { billedMegapixels, type Cost, priceRequest } from './pricing.js';
export {
  type ImageRequestFields,
  imageRequestFields,
  imageRequestSchema,
  MAX_INPUT_IMAGES,
  MAX_N,
  NON_PASSTHROUGH_FIELDS,
  OUTPUT_FORMATS,
  type OutputFormat,
  PRIORITIES,
  PROMPT_MAX_CHARS,
  type Priority,
  RESERVED_FAL_FIELDS,
  RESPONSE_FORMATS,
  type ResponseFormat,
} from './request-schema.js';
export {
  type Dimensions,
  dimensionsFor,
  exactSizeProblem,
  FAL_MAX_IMAGES_PER_REQUEST,
  MAX_MEGAPIXELS,
  MAX_SIDE,
  MEGAPIXEL,
  MIN_SIDE,
  nearestAspectRatio,
  parseExactSize,
  parseRatio,
  RESOLUTION_TIERS_MP,
  resolutionToMegapixels,
  resolveOutputSize,
  SIDE_MULTIPLE,
  type SizeRule,
  SUPPORTED_ASPECT_RATIOS,
  splitImageCount,
} from './sizes.js';
export {
  DEFAULT_JOB_WEBHOOK_EVENTS,
  isWebhookEventType,
  type JobWebhook,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from './webhook-events.js';
