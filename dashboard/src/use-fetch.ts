import { useEffect, useState } from 'preact/hooks';
import { get, Unauthorized } from './api.js';

/** GET a dashboard API path again whenever one of `deps` changes (the live version among them); keeps the last data while refetching. */
export function useFetch<T>(path: string | null, deps: unknown[]): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!path) return;
    let live = true;
    get<T>(path)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((e: unknown) => {
        if (live && !(e instanceof Unauthorized)) setError(String(e));
      });
    return () => {
      live = false;
    };
  }, [path, ...deps]);
  return { data, error };
}
