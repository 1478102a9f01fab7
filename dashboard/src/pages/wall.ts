import { html } from 'htm/preact';
import { STATES, imageUrl } from '../api.js';
import { useFetch } from '../use-fetch.js';
import type { PageProps } from './page-props.js';

interface WallItem {
  labelId: string;
  status: string;
  gtin: string | null;
  name: string | null;
  apId: string | null;
  template: string | null;
  tillPriceCents: number | null;
  shownPriceCents: number | null;
  confirmedHash: string | null;
  desiredHash: string | null;
}
interface WallData {
  total: number;
  page: number;
  size: number;
  items: WallItem[];
  facets: { aps: string[]; templates: string[] };
}

const FILTERS = ['state', 'ap', 'template', 'gtin', 'q'] as const;

/** The label wall: filters live in the URL (#/labels?state=…&q=…&page=…), so a filtered view can be bookmarked. */
export function Wall({ t, fmt, version, params }: PageProps) {
  const query = new URLSearchParams();
  for (const k of [...FILTERS, 'page'] as const) {
    const v = params.get(k);
    if (v) query.set(k, v);
  }
  query.set('size', '24');
  const { data, error } = useFetch<WallData>(`/labels?${query.toString()}`, [version]);
  const go = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    location.hash = `#/labels?${next.toString()}`;
  };
  const onSubmit = (e: Event) => {
    e.preventDefault();
    const f = e.currentTarget as HTMLFormElement;
    const val = (n: string) => (f.elements.namedItem(n) as HTMLInputElement | HTMLSelectElement).value || null;
    go({ state: val('state'), ap: val('ap'), template: val('template'), q: val('q'), gtin: null, page: null });
  };
  const page = Number(params.get('page') ?? 0);
  const pages = data ? Math.max(1, Math.ceil(data.total / data.size)) : 1;
  return html`
    <h1>${t.wall}</h1>
    <form class="filters card" role="search" onSubmit=${onSubmit}>
      <div class="field">
        <label for="f-state">${t.state}</label>
        <select id="f-state" name="state" value=${params.get('state') ?? ''} onChange=${(e: Event) => go({ state: (e.target as HTMLSelectElement).value || null, page: null })}>
          <option value="">${t.all}</option>
          ${STATES.map((s) => html`<option value=${s}>${t.states[s]}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-ap">${t.ap}</label>
        <select id="f-ap" name="ap" value=${params.get('ap') ?? ''} onChange=${(e: Event) => go({ ap: (e.target as HTMLSelectElement).value || null, page: null })}>
          <option value="">${t.all}</option>
          ${(data?.facets.aps ?? []).map((a) => html`<option value=${a}>${a}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-template">${t.template}</label>
        <select id="f-template" name="template" value=${params.get('template') ?? ''} onChange=${(e: Event) => go({ template: (e.target as HTMLSelectElement).value || null, page: null })}>
          <option value="">${t.all}</option>
          ${(data?.facets.templates ?? []).map((a) => html`<option value=${a}>${a}</option>`)}
        </select>
      </div>
      <div class="field grow">
        <label for="f-q">${t.search}</label>
        <input id="f-q" name="q" type="search" value=${params.get('q') ?? ''} inputmode="search" autocomplete="off" />
      </div>
      <button type="submit">${t.searchButton}</button>
    </form>
    ${!data
      ? html`<p>${error ? `${t.error}: ${error}` : t.loading}</p>`
      : html`
          <p role="status" data-testid="wall-total">${t.found(data.total)} · ${t.page(page + 1, pages)}</p>
          <ul class="wall" data-testid="wall">
            ${data.items.map((l) => {
              const src = imageUrl(l.confirmedHash);
              const what = `${l.name ?? t.states.unbound}, ${fmt.euro(l.shownPriceCents)}`;
              return html`<li class="tile" data-label=${l.labelId} data-status=${l.status}>
                <a href=${`#/labels/${l.labelId}`}>
                  ${src ? html`<img src=${src} alt=${t.imageAlt(l.labelId, what)} loading="lazy" decoding="async" />` : html`<span class="noimg">${t.noImage}</span>`}
                  <span class="meta"><code>${l.labelId}</code> <span class=${`badge state-${l.status}`}>${t.states[l.status] ?? l.status}</span></span>
                  <span class="meta">${l.name ?? '—'} · ${fmt.euro(l.tillPriceCents)}</span>
                </a>
              </li>`;
            })}
          </ul>
          <nav class="pager" aria-label=${t.page(page + 1, pages)}>
            <button type="button" disabled=${page <= 0} onClick=${() => go({ page: page - 1 > 0 ? String(page - 1) : null })}>${t.prev}</button>
            <span>${t.page(page + 1, pages)}</span>
            <button type="button" disabled=${page + 1 >= pages} onClick=${() => go({ page: String(page + 1) })}>${t.next}</button>
          </nav>
        `}
  `;
}
