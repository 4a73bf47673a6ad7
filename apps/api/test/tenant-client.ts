/** A small HTTP client for API tests: one tenant's key, JSON in and out. */

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ErrorBody {
  error: { type: string; code: string; message: string; param: string | null };
}

export interface TenantClient {
  get<T = Json>(path: string): Promise<ApiResponse<T>>;
  post<T = Json>(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  /** POSTs `form` as multipart/form-data. */
  postForm<T = Json>(path: string, form: FormData): Promise<ApiResponse<T>>;
  /** The raw response, for streams. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** `key` is sent as a Bearer token; without one, requests go out as in local open mode. */
export function tenantClient(baseUrl: string, key?: string): TenantClient {
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { ...auth, ...(init.headers as Record<string, string>) },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path) => call(path),
    post: (path, body, headers = {}) =>
      call(path, {
        method: 'POST',
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    postForm: (path, form) => call(path, { method: 'POST', body: form }),
    fetch: (path, init = {}) =>
      fetch(`${baseUrl}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      }),
  };
}

/** A multipart form with one file. */
export function fileForm(field: string, bytes: Uint8Array, name: string, type: string): FormData {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type }), name);
  return form;
}
