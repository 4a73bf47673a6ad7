import { UPLOAD_ID_PATTERN } from '@fluxq/core';
import type { UploadRecord } from '@fluxq/store';
import type { ApiDeps } from './deps.js';

/**
 * The upload `id` of `tenant`, or undefined when it is malformed, does not exist, has expired
 * or belongs to another tenant (all look the same to the caller). The record is the upload
 * store's (packages/store).
 */
export async function findUpload(
  deps: Pick<ApiDeps, 'records'>,
  id: string,
  tenant: string,
): Promise<UploadRecord | undefined> {
  if (!UPLOAD_ID_PATTERN.test(id)) return undefined;
  return deps.records.uploads.find(id, tenant);
}

/** An upload as the API shows it (tenant and storage key stay internal). */
export function viewUpload(record: UploadRecord) {
  return {
    id: record.id,
    object: 'upload' as const,
    width: record.width,
    height: record.height,
    content_type: record.content_type,
    bytes: record.bytes,
    created_at: record.created_at,
    expires_at: record.expires_at,
  };
}
