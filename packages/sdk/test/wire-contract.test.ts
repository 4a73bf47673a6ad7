import type { JobView } from '@fluxq/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Job, JobStatus } from '../src/index.js';
import { TERMINAL_JOB_STATUSES } from '../src/index.js';

/**
 * The SDK writes its wire types out (no server package at run time); this test (type-only
 * import, checked by `tsc -p packages/sdk`) fails to compile when the API's job view drifts.
 */
describe('wire contract', () => {
  it("the API's job view is an SDK Job", () => {
    expectTypeOf<JobView>().toExtend<Job>();
    expectTypeOf<JobView['status']>().toEqualTypeOf<JobStatus>();
    expect(TERMINAL_JOB_STATUSES).toEqual(['succeeded', 'failed', 'canceled']);
  });
});
