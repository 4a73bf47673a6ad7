import { z } from 'zod';
import type { FaultRule, FaultTarget } from './types.js';

const FAULT_TARGETS = ['submit', 'status', 'result', 'cancel', 'upload', 'cdn', 'outcome'] as const;

/** Validates fault rules arriving over HTTP (`POST /__sim/faults`). */
export const faultRuleSchema = z
  .object({
    on: z.enum(FAULT_TARGETS),
    times: z.number().int().min(-1).optional(),
    endpoint: z.string().min(1).optional(),
    status: z.number().int().min(100).max(599).optional(),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    delayMs: z.number().min(0).optional(),
    hang: z.boolean().optional(),
    malformed: z.boolean().optional(),
    reset: z.boolean().optional(),
    nsfw: z.boolean().optional(),
  })
  .superRefine((rule, ctx) => {
    const acts =
      rule.status !== undefined || rule.delayMs !== undefined || rule.hang || rule.malformed || rule.reset;
    if (!acts && !rule.nsfw) {
      ctx.addIssue({
        code: 'custom',
        message: 'a rule needs status, delayMs, hang, malformed, reset or nsfw',
      });
    }
  });

export const faultRulesSchema = z.union([
  z.array(faultRuleSchema),
  z.object({ rules: z.array(faultRuleSchema) }).transform((value) => value.rules),
]);

export interface FaultBook {
  /** Replaces every rule. */
  set(rules: readonly FaultRule[]): void;
  /** The first rule for `on` that matches `endpoint`, consuming one of its `times`. */
  take(on: FaultTarget, endpoint: string | undefined): FaultRule | undefined;
  /** Rules still armed, with their remaining counts. */
  list(): FaultRule[];
  clear(): void;
}

interface ArmedRule {
  rule: FaultRule;
  remaining: number;
}

export function createFaultBook(): FaultBook {
  let armed: ArmedRule[] = [];
  return {
    set(rules) {
      armed = rules
        .map((rule) => ({ rule: { ...rule }, remaining: remainingOf(rule.times) }))
        .filter((entry) => entry.remaining > 0);
    },
    take(on, endpoint) {
      const index = armed.findIndex(
        ({ rule }) => rule.on === on && (rule.endpoint === undefined || rule.endpoint === endpoint),
      );
      const hit = armed[index];
      if (!hit) return undefined;
      hit.remaining -= 1;
      if (hit.remaining <= 0) armed.splice(index, 1);
      return hit.rule;
    },
    list() {
      return armed.map(({ rule, remaining }) => ({
        ...rule,
        times: Number.isFinite(remaining) ? remaining : -1,
      }));
    },
    clear() {
      armed = [];
    },
  };
}

function remainingOf(times: number | undefined): number {
  if (times === undefined) return 1;
  if (times < 0 || times === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  return times;
}
