// The seeded random source and the process supervisor (which the launcher uses too) live in
// production-side packages; tests take them from here with the rest of their harness.
export { createSeededRandom, type RandomSource } from '@fluxq/runtime';
export {
  builtEntry,
  findExecutable,
  findRedisServerBinary,
  findRepoRoot,
  getFreePort,
  type LineListener,
  type OutputStream,
  probeRedis,
  type RedisAddress,
  type RedisProbe,
  type RedisReply,
  RedisReplyError,
  type RedisServer,
  RedisServerNotFoundError,
  type RedisServerOptions,
  redisCommand,
  repoRoot,
  type Service,
  type ServiceReadiness,
  type ServiceRuntime,
  ServiceStartError,
  type SpawnServiceOptions,
  serviceNodeArgs,
  spawnService,
  startRedisServer,
  tsNodeArgs,
  type WaitForOptions,
  WaitForTimeoutError,
  waitFor,
} from '@fluxq/supervisor';
export { AwsChunkedError, decodeAwsChunked } from './aws-chunked.js';
export { bmpImage, crc32, pngHeaderDeclaring } from './bad-images.js';
export { CHROMIUM_PATH, launchChromium } from './chromium.js';
export {
  type ImageFormat,
  imageMimeTypes,
  type MakeImageOptions,
  makeDataUri,
  makeImage,
  paintPixels,
  textFile,
  truncated,
} from './images.js';
export { type PromFamily, type PromSample, PromScrape, scrapePrometheus } from './prometheus.js';
export {
  findRedisCli,
  type RedisCluster,
  type RedisClusterOptions,
  startRedisCluster,
} from './redis-cluster.js';
export {
  DEFAULT_REDIS_IMAGE,
  dockerEngineAnswers,
  type RedisContainerHandle,
  startRedisContainer,
} from './redis-container.js';
export { NoRedisForTestsError, type RedisSource, redisForTests, type TestRedis } from './redis-for-tests.js';
export {
  type RedisSentinelSet,
  type RedisSentinelSetOptions,
  startRedisSentinelSet,
} from './redis-sentinel.js';
export { type S3Front, type S3FrontOptions, type S3FrontStats, startS3Front } from './s3-front.js';
export {
  localhostAgent,
  localhostLookup,
  type S3Server,
  type S3ServerOptions,
  startS3Server,
} from './s3-server.js';
export {
  apiKeysOf,
  assertNoSecretsIn,
  SECRET_PATTERNS,
  secretsIn,
  WELL_KNOWN_TEST_SECRETS,
} from './secrets.js';
export { readServerSentEvents, type ServerSentEvent } from './server-sent-events.js';
export {
  type SigV4Credentials,
  type SigV4Refusal,
  type SigV4Request,
  type SigV4Verdict,
  verifySigV4,
} from './sigv4-verify.js';
export {
  type ReceivedRequest,
  type ReceiverAnswer,
  startWebhookReceiver,
  type WebhookReceiver,
} from './webhook-receiver.js';
