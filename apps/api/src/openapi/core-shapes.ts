/** The few values of @fluxq/core the document is built from (one import point). */
export { ERROR_CODES, imageRequestFields } from '@fluxq/core';
export const JOB_STATUSES_FOR_DOCS = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
