import type { JobRecord } from '@fluxq/core';
import { describe, expect, it } from 'vitest';
import { failedJobError } from '../src/services/openai-view.js';

const failed = (code: string, status: JobRecord['status'] = 'failed') =>
  ({ id: 'job_x', status, error: { code, message: `it went wrong: ${code}` } }) as JobRecord;

describe('a failed job as the error of a synchronous call', () => {
  it.each([
    ['provider_validation_error', 400, 'provider_validation_error', 'invalid_request_error'],
    ['content_filtered', 400, 'content_filtered', 'invalid_request_error'],
    ['input_fetch_failed', 400, 'input_fetch_failed', 'invalid_request_error'],
    ['provider_timeout', 504, 'provider_timeout', 'api_error'],
    ['provider_error', 502, 'provider_error', 'api_error'],
    ['provider_auth_error', 502, 'provider_error', 'api_error'],
    ['something_new', 502, 'provider_error', 'api_error'],
    ['internal_error', 500, 'internal_error', 'api_error'],
  ])('maps %s to %i %s', (jobCode, status, code, type) => {
    const error = failedJobError(failed(jobCode));
    expect(error).toMatchObject({ status, code, type });
    expect(error.message).toBe(`it went wrong: ${jobCode} (job job_x)`);
  });

  it('answers 409 job_canceled for a canceled job', () => {
    expect(failedJobError(failed('canceled', 'canceled'))).toMatchObject({
      status: 409,
      code: 'job_canceled',
    });
  });
});
