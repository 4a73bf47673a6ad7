import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Local image the CI step builds (no registry is reachable there). */
export const DEFAULT_REDIS_IMAGE = 'fluxq-redis:local';

export interface RedisContainerHandle {
  url: string;
  stop(): Promise<void>;
}

/** True when a Docker engine answers `docker version` (the CLI talks to DOCKER_HOST or the socket). */
export async function dockerEngineAnswers(timeoutMs = 3_000): Promise<boolean> {
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/**
 * A Redis container through Testcontainers, from `FLUXQ_TEST_REDIS_IMAGE` (default
 * `fluxq-redis:local`). Testcontainers pulls only a missing image, so a locally built one is used as is.
 * Without a reaper (`TESTCONTAINERS_RYUK_DISABLED=true` where it cannot be pulled) `stop()` removes it.
 */
export async function startRedisContainer(): Promise<RedisContainerHandle> {
  // Imported only here: machines with redis-server on PATH never load Docker client code.
  const { RedisContainer } = await import('@testcontainers/redis');
  const image = process.env.FLUXQ_TEST_REDIS_IMAGE?.trim() || DEFAULT_REDIS_IMAGE;
  const container = await new RedisContainer(image).start();
  return {
    url: container.getConnectionUrl(),
    stop: async () => {
      await container.stop({ remove: true, removeVolumes: true });
    },
  };
}
