import type { FalWebhookVerifier } from '@fluxq/fal';
import type { InputLimits } from '@fluxq/images';
import type {
  FairQueue,
  FalWebhookInbox,
  ImagesQueue,
  JobEvents,
  JobLifecycle,
  Scheduler,
  WebhooksQueue,
} from '@fluxq/queue';
import type { ProviderStats } from '@fluxq/resilience';
import type { Logger } from '@fluxq/runtime';
import type { BlobStorage, FileUrls, UrlSigner } from '@fluxq/storage';
import type {
  BatchStore,
  JobStore,
  Records,
  TenantJobIndex,
  TenantQueueIndex,
  WebhookDeliveryStore,
  WebhookSettingsStore,
} from '@fluxq/store';
import type { Resolve } from '@fluxq/webhooks';
import type { BatchCanceller } from './services/batch-cancel.js';
import type { TenantRegistry } from './tenants/tenant-registry.js';

/** API tunables that handlers need. */
export interface ApiSettings {
  fileUrlTtlS: number;
  maxJsonBodyBytes: number;
  allowHttpImageUrls: boolean;
  inputLimits: InputLimits;
  /** Largest multipart file, bytes. */
  maxUploadFileBytes: number;
  /** Lifetime of an upload, seconds. */
  uploadTtlS: number;
  /** How long an `Idempotency-Key` is remembered, seconds. */
  idempotencyTtlS: number;
  /** Most files in one multipart `/v1/images/edits` request (default 4). */
  maxUploadFiles?: number;
  /** All files of one multipart request together, bytes (default 40 MiB). */
  maxMultipartTotalBytes?: number;
  /** Longest wait of a synchronous `/v1/images/*` call, seconds (default 300). */
  syncWaitMaxS?: number;
  /** Longest line (request) of a batch, bytes (default 1 MiB). */
  maxBatchLineBytes?: number;
  /** Largest JSONL batch file, bytes (default 200 MiB). */
  maxBatchFileBytes?: number;
  /** Largest `POST /fal/webhook` body, bytes (default 20 MiB). */
  falWebhookMaxBodyBytes?: number;
  /** `/metrics`: on unless `enabled: false`; `token` also lets a scraper in; `tenantLabels` adds per-tenant series. */
  metrics?: { enabled?: boolean; token?: string; tenantLabels?: boolean };
}

/** Webhooks: where deliveries queue and are logged, tenants' secrets, the URL guard's allow-list. */
export interface ApiWebhooks {
  queue: WebhooksQueue;
  deliveries: WebhookDeliveryStore;
  settings: WebhookSettingsStore;
  /** Hosts, IPs or CIDRs that webhook and image URLs may reach although private. */
  allow: readonly string[];
  /** How long the previous secret keeps signing after a rotation, ms. */
  secretOverlapMs: number;
  /** Name resolution for the URL checks at submit. @defaultValue the system resolver */
  resolve?: Resolve;
}

/** Everything the HTTP handlers talk to; tests build it from real parts. */
export interface ApiDeps {
  /** Redis answers (`/readyz`); throws when it does not. */
  ping(): Promise<void>;
  /** Waits until a replica has the writes so far (WAIT); the number of replicas, undefined without any. */
  waitForReplica(): Promise<number | undefined>;
  /** Per-tenant queued jobs (the queued-jobs limit, `GET /v1/usage`). */
  queued: TenantQueueIndex;
  /** Per-tenant job index reads (job list pages, stats samples). */
  jobIndex: TenantJobIndex;
  /** fal's webhooks: claimed once, announced to the workers. */
  falWebhooks: FalWebhookInbox;
  /** Provider latency and outcome statistics (`GET /v1/stats`). */
  providerStats: ProviderStats;
  /** Uploads, idempotency claims, rate-limit logs and spend: Redis records owned by packages/store. */
  records: Records;
  store: JobStore;
  /** Batches: status, counts, lines (DESIGN §5). */
  batches: BatchStore;
  /** Cancels the jobs of batches in `cancelling`, in the background. */
  batchCanceller: BatchCanceller;
  /** A job's status changes with all their side effects (here: its cancel). */
  lifecycle: JobLifecycle;
  /** Job status changes, for waiting and streaming. */
  events: JobEvents;
  queue: ImagesQueue;
  /** Accepted jobs wait here for a fal slot; granted ones enter `queue` (packages/queue README). */
  fair: FairQueue;
  /** The fal-capacity scheduler: places in line, cancel of a waiting job. */
  scheduler: Scheduler;
  webhooks: ApiWebhooks;
  storage: BlobStorage;
  /** Verifies the API's own `/v1/files/…` URLs (local disk). */
  signer: UrlSigner;
  /** The URLs handed out for stored files: presigned by the object store, or the API's own. */
  fileUrls: FileUrls;
  logger: Logger;
  /** Checks the signature of fal's completion webhooks (`POST /fal/webhook`). */
  falWebhookVerifier: FalWebhookVerifier;
  /** Tenants, their hashed keys and limits; `openMode` without keys. */
  tenants: TenantRegistry;
  settings: ApiSettings;
  now: () => number;
}
