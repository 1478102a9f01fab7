/** The dashboard API client: same-origin fetch with the session cookie; actions carry the session's CSRF token. */
export class Unauthorized extends Error {}

let csrf = '';
export function setCsrf(token: string): void {
  csrf = token;
}

let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
  const res = await fetch(`/dashboard/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(method !== 'GET' ? { 'x-csrf-token': csrf } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401 && path !== '/login') {
    onUnauthorized();
    throw new Unauthorized('session ended');
  }
  const data = (await res.json().catch(() => ({}))) as T;
  return { status: res.status, data };
}

export const get = <T>(path: string) => request<T>('GET', path).then((r) => r.data);
export const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);

export interface Me {
  user: string;
  role: 'viewer' | 'operator';
  csrf: string;
  store: { chain: string; id: string; name: string | null };
}

export interface Summary {
  version: string;
  generatedAt: number;
  total: number;
  counts: Record<string, number>;
  priceMismatches: number;
  apsOnline: number;
  apsTotal: number;
}

export const STATES = ['consistent', 'pending', 'stale', 'failed', 'unreachable', 'unbound', 'not_sold'] as const;

export function imageUrl(hash: string | null | undefined, scale = 1): string | null {
  // The all-zero hash is a blank panel (protocol §5.3): there is no picture to show.
  return hash && /^[0-9a-f]{16}$/.test(hash) && hash !== '0000000000000000' ? `/dashboard/api/images/${hash}.png?scale=${scale}` : null;
}
