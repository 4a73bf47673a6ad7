import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) a summary needs. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  /** `function (file:line)`, the file relative to the repository or to node_modules. */
  frame: string;
  /** Share of the sampled time. Unit: percent. */
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time. Unit: ms. */
  totalMs: number;
  /** Time spent in the frame itself, biggest first. */
  self: FrameShare[];
  /** Time spent in the frame and everything it called (each frame counted once per sample). */
  inclusive: FrameShare[];
  /** Self time by where the code lives: a workspace, a node_modules package, node's own, or V8. */
  byOrigin: FrameShare[];
  /**
   * Busy time (idle left out) by the nearest frame on each sample's stack that belongs to a
   * named area (AREAS): node's socket write under an ioredis call counts as ioredis, under fetch
   * as fetch. Percent of busy time.
   */
  byArea: FrameShare[];
}

/** Areas a sample is charged to, first match walking up from the leaf. */
const AREAS: Array<[RegExp, string]> = [
  [/\/node_modules\/ioredis\//, 'ioredis (Redis commands)'],
  [/\/node_modules\/bullmq\//, 'bullmq'],
  [/\/node_modules\/sharp\//, 'sharp (image metadata)'],
  [/undici/, 'fetch (undici)'],
  [/^node:internal\/fs|^node:fs/, 'fs (storage writes)'],
  [/^node:_http|^node:http/, 'node http'],
  [/\/node_modules\/(express|router|body-parser)\//, 'express'],
  [/\/node_modules\/(pino|pino-std-serializers|sonic-boom)\//, 'pino (logs)'],
  [/\/node_modules\/prom-client\//, 'prom-client (metrics)'],
  [/\/node_modules\/zod\//, 'zod'],
  [/\/node_modules\/tsx\/|^node:internal\/modules\//, 'module loading (start-up)'],
  [/\/(apps|packages)\/[^/]+\//, 'fluxq code'],
];

/** Where a frame's code lives, short enough for a table. */
function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const repo = /\/(apps|packages|bench)\/.*$/.exec(url);
  return repo ? repo[0].slice(1) : url.replace(/^file:\/\//, '');
}

function originOf({ functionName, url }: { functionName: string; url: string }): string {
  if (url === '')
    return ['(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const workspace = /\/((?:apps|packages)\/[^/]+)\//.exec(url);
  return workspace ? workspace[1]! : shortUrl(url);
}

const top = (totals: Map<string, number>, totalUs: number, count: number): FrameShare[] =>
  [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, us]) => ({ frame, percent: (us / totalUs) * 100 }));

/** Top frames of a `.cpuprofile`: self time, inclusive time, and self time by origin. */
export function summarizeCpuProfile(path: string, count = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const label = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    return `${functionName || '(anonymous)'} (${url ? `${shortUrl(url)}:${lineNumber + 1}` : 'native'})`;
  };

  const areaOf = (leaf: number) => {
    for (let at: number | undefined = leaf; at !== undefined; at = parentOf.get(at)) {
      const { url } = byId.get(at)!.callFrame;
      for (const [pattern, area] of AREAS) if (pattern.test(url)) return area;
    }
    const { functionName } = byId.get(leaf)!.callFrame;
    return functionName === '(garbage collector)' ? 'garbage collector' : 'other';
  };
  const byArea = new Map<string, number>();
  let busyUs = 0;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const frame = label(id);
    self.set(frame, (self.get(frame) ?? 0) + us);
    const origin = originOf(byId.get(id)!.callFrame);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    if (origin !== '(idle)') {
      busyUs += us;
      const area = areaOf(id);
      byArea.set(area, (byArea.get(area) ?? 0) + us);
    }
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const name = label(at);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  });
  // The idle loop and the root say nothing about where work goes.
  for (const map of [self, inclusive])
    for (const name of [...map.keys()]) if (/^\((root|program|idle)\) /.test(name)) map.delete(name);
  return {
    totalMs: totalUs / 1000,
    self: top(self, totalUs, count),
    inclusive: top(inclusive, totalUs, count),
    byOrigin: top(byOrigin, totalUs, count),
    byArea: top(byArea, busyUs, count),
  };
}
