import type { HttpClient, RequestOptions } from '../http.js';
import { isBinary, toFilePart } from '../multipart.js';
import type { BinaryImage, Upload } from '../types.js';

export interface UploadCreateOptions extends RequestOptions {
  /** @defaultValue the `File`'s name, else `upload.<type>` */
  filename?: string;
  /** @defaultValue the `Blob`'s type, else sniffed (PNG, JPEG, WebP) */
  contentType?: string;
}

/** `/v1/uploads`: a reference image stored once, named by its `upl_…` id in any request. */
export class Uploads {
  constructor(private readonly http: HttpClient) {}

  /** Sent once, never retried: the API does not deduplicate uploads. */
  async create(file: BinaryImage, options: UploadCreateOptions = {}): Promise<Upload> {
    if (!isBinary(file))
      throw new TypeError('uploads.create takes a File, Blob, Buffer, Uint8Array or ArrayBuffer');
    const { filename, contentType, ...rest } = options;
    const part = toFilePart(file, { filename, contentType, fallbackName: 'upload' });
    const form = new FormData();
    form.append('file', part.blob, part.filename);
    const res = await this.http.request<Upload>({ ...rest, method: 'POST', path: '/v1/uploads', body: form });
    return res.data;
  }

  async get(id: string, options: RequestOptions = {}): Promise<Upload> {
    const res = await this.http.request<Upload>({
      ...options,
      method: 'GET',
      path: `/v1/uploads/${encodeURIComponent(id)}`,
    });
    return res.data;
  }
}
