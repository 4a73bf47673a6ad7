/**
 * Decodes an `aws-chunked` request body (`<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` …
 * `0…\r\n` then optional trailers such as `x-amz-checksum-crc32:…`), which the AWS SDK sends
 * for streamed uploads and S3 stores decoded. s3rver would store the framing as data.
 * Chunk signatures are not checked: the request's seed signature is (sigv4-verify.ts).
 */

export class AwsChunkedError extends Error {
  override readonly name = 'AwsChunkedError';
}

export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) throw new AwsChunkedError('aws-chunked body ends inside a chunk header');
    const header = body.subarray(at, lineEnd).toString('latin1');
    const size = Number.parseInt(header.split(';')[0]!, 16);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new AwsChunkedError(`bad chunk header ${JSON.stringify(header)}`);
    at = lineEnd + 2;
    if (size === 0) return Buffer.concat(parts);
    if (at + size + 2 > body.byteLength) throw new AwsChunkedError('aws-chunked body ends inside a chunk');
    parts.push(body.subarray(at, at + size));
    at += size;
    if (body.toString('latin1', at, at + 2) !== '\r\n')
      throw new AwsChunkedError('chunk not followed by CRLF');
    at += 2;
  }
}
