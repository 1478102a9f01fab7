import type { Dict, Fmt, Lang } from '../i18n.js';
import type { Me, Summary } from '../api.js';

export interface PageProps {
  t: Dict;
  fmt: Fmt;
  lang: Lang;
  me: Me;
  /** Changes when anything in the store changed (live stream): pages refetch on it. */
  version: string;
  summary: Summary | null;
  params: URLSearchParams;
  path: string;
}
