import { readdirSync, readFileSync } from 'node:fs';
import { IMAGES_QUEUE, QUEUE_PREFIX } from '@fluxq/queue';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadApiConfig } from '../apps/api/src/config.js';
import { loadWorkerConfig } from '../apps/worker/src/config.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Manifest = { kind: string; metadata: { name: string }; [key: string]: any };

const dir = new URL('../deploy/', import.meta.url);
const manifests: Manifest[] = readdirSync(dir)
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((name) =>
    parseAllDocuments(readFileSync(new URL(name, dir), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`deploy/${name}: ${doc.errors[0]!.message}`);
      return doc.toJSON() as Manifest;
    }),
  );
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`deploy/ has no ${kind} ${name}`);
  return found;
};
const container = (deployment: Manifest) => deployment.spec.template.spec.containers[0];
const config = find('ConfigMap', 'fluxq-config').data as Record<string, string>;
const secrets = find('Secret', 'fluxq-secrets').stringData as Record<string, string>;
/** What a pod sees: the ConfigMap and Secret (envFrom) under its own env entries. */
const podEnv = (deployment: Manifest): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const source of container(deployment).envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, find('ConfigMap', source.configMapRef.name).data);
    if (source.secretRef) Object.assign(env, find('Secret', source.secretRef.name).stringData);
  }
  for (const entry of container(deployment).env ?? []) env[entry.name] = entry.value;
  return env;
};

describe('deploy/ Kubernetes manifests', () => {
  const api = find('Deployment', 'fluxq-api');
  const worker = find('Deployment', 'fluxq-worker');

  it('probe /healthz for liveness and /readyz for readiness, on the ports the apps listen on', () => {
    for (const deployment of [api, worker]) {
      const c = container(deployment);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      const named = (port: string) => c.ports.find((p: { name: string }) => p.name === port)?.containerPort;
      expect(named(c.readinessProbe.httpGet.port)).toBeDefined();
    }
    const apiPort = container(api).ports[0].containerPort;
    expect(String(apiPort)).toBe(loadApiConfig(podEnv(api)).PORT.toString());
    expect(container(worker).ports[0].containerPort).toBe(loadWorkerConfig(podEnv(worker)).METRICS_PORT);
  });

  it('gives a stopping worker longer than WORKER_SHUTDOWN_TIMEOUT_MS before SIGKILL', () => {
    const shutdownMs = loadWorkerConfig(podEnv(worker)).WORKER_SHUTDOWN_TIMEOUT_MS;
    expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownMs);
  });

  it('holds only secrets the apps read, the signing secret for both, and both load their config from it', () => {
    const read = new Set([
      ...Object.keys(loadApiConfig(podEnv(api))),
      ...Object.keys(loadWorkerConfig(podEnv(worker))),
    ]);
    for (const key of Object.keys(secrets)) expect(read, key).toContain(key);
    expect(podEnv(api).FILES_SIGNING_SECRET).toBe(podEnv(worker).FILES_SIGNING_SECRET);
    expect(podEnv(api).FILES_SIGNING_SECRET).toBeTruthy();
    expect(config.PUBLIC_BASE_URL).toBe(podEnv(worker).PUBLIC_BASE_URL);
  });

  it('keeps an api pod up in disruptions, and KEDA scales workers on the images wait list', () => {
    expect(find('PodDisruptionBudget', 'fluxq-api').spec.selector.matchLabels).toEqual(
      api.spec.selector.matchLabels,
    );
    expect(find('PodDisruptionBudget', 'fluxq-worker').spec.selector.matchLabels).toEqual(
      worker.spec.selector.matchLabels,
    );
    expect(find('Service', 'fluxq-api').spec.selector).toEqual(api.spec.selector.matchLabels);
    const scaled = find('ScaledObject', 'fluxq-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe(worker.metadata.name);
    const trigger = scaled.spec.triggers[0];
    expect(trigger.type).toBe('redis');
    expect(trigger.metadata.listName).toBe(`${QUEUE_PREFIX}:${IMAGES_QUEUE}:wait`);
  });
});
