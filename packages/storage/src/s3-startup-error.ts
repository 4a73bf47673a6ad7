/**
 * Turns a failed start-up HeadBucket into one line naming the variable to fix. HEAD answers
 * carry no body, so the status code is all S3 tells us: 404 is the bucket, 400/401/403 the
 * credentials (or their permissions on the bucket). Secrets never appear, only their names.
 */

interface S3ErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function describeS3StartupError(
  err: unknown,
  where: { bucket: string; endpoint?: string; region: string },
): string {
  const e = (err ?? {}) as S3ErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const at = where.endpoint ? `at ${where.endpoint}` : `in AWS region ${where.region}`;
  if (e.name === 'CredentialsProviderError') {
    return 'AWS_ACCESS_KEY_ID: no S3 credentials found in the AWS SDK default chain (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or use an instance role)';
  }
  if (status === 404 || e.name === 'NotFound' || e.name === 'NoSuchBucket') {
    return `S3_BUCKET: bucket "${where.bucket}" does not exist ${at}`;
  }
  if (status === 400 || status === 401 || status === 403) {
    return `AWS_SECRET_ACCESS_KEY: S3 refused the credentials for bucket "${where.bucket}" ${at} (HTTP ${status}: wrong AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or no s3:ListBucket permission on it)`;
  }
  if (status === 301) {
    return `S3_REGION: bucket "${where.bucket}" is in another region than ${where.region}`;
  }
  const reason = e.code ?? e.name ?? 'error';
  return `S3_ENDPOINT: cannot reach S3 ${at} to check bucket "${where.bucket}" (${reason}${status ? `, HTTP ${status}` : ''})`;
}
