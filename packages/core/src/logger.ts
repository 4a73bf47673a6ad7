import { type Logger, type LoggerOptions, pino } from 'pino';

/**
 * Paths whose values never reach logs: credentials, signing secrets, and image
 * bytes (data URIs are logged as their length only, see `redactDataUris`).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'authorization',
  'apiKey',
  'falKey',
  'FAL_KEY',
  'secret',
  'signingSecret',
  'config.FAL_KEY',
  'config.FILES_SIGNING_SECRET',
  'config.API_KEYS',
];

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a sink to assert on. */
  destination?: pino.DestinationStream;
}

export function createLogger({ name, level = 'info', destination }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: name },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
