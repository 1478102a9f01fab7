import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { useFetch } from '../use-fetch.js';
import type { PageProps } from './page-props.js';

interface TemplatesData {
  templates: string[];
  labelTypes: { id: number; name: string; pages: number }[];
}

function previewSrc(sel: { template: string; labelType: string; page: string; name: string; price: string }): string {
  const q = new URLSearchParams({ labelType: sel.labelType, page: sel.page, scale: '2' });
  if (sel.name) q.set('name', sel.name);
  if (/^\d+$/.test(sel.price)) q.set('priceCents', sel.price);
  return `/dashboard/api/templates/${encodeURIComponent(sel.template)}/preview.png?${q.toString()}`;
}

export function Templates({ t }: PageProps) {
  const { data } = useFetch<TemplatesData>('/templates', []);
  const [sel, setSel] = useState({ template: 'price-standard', labelType: 'epd-29-bwr', page: '0', name: '', price: '' });
  const [warnings, setWarnings] = useState<string[]>([]);
  const src = previewSrc(sel);
  useEffect(() => {
    // The preview's render warnings (text shortened or dropped to stay legible, D47) come in a response header.
    let live = true;
    fetch(src, { method: 'HEAD', credentials: 'same-origin' })
      .then((r) => {
        const h = r.headers.get('x-render-warnings');
        if (live) setWarnings(h ? (JSON.parse(decodeURIComponent(h)) as string[]) : []);
      })
      .catch(() => live && setWarnings([]));
    return () => {
      live = false;
    };
  }, [src]);
  if (!data) return html`<h1>${t.templates}</h1><p>${t.loading}</p>`;
  const type = data.labelTypes.find((x) => x.name === sel.labelType);
  const set = (k: keyof typeof sel) => (e: Event) => setSel({ ...sel, [k]: (e.target as HTMLInputElement).value });
  return html`
    <h1>${t.templates}</h1>
    <form class="filters card" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="t-name">${t.template}</label>
        <select id="t-name" value=${sel.template} onChange=${set('template')}>${data.templates.map((n) => html`<option value=${n}>${n}</option>`)}</select></div>
      <div class="field"><label for="t-type">${t.labelType}</label>
        <select id="t-type" value=${sel.labelType} onChange=${set('labelType')}>${data.labelTypes.map((lt) => html`<option value=${lt.name}>${lt.name}</option>`)}</select></div>
      <div class="field"><label for="t-page">${t.pageNo}</label>
        <select id="t-page" value=${sel.page} onChange=${set('page')}>${Array.from({ length: type?.pages ?? 1 }, (_, i) => html`<option value=${String(i)}>${i}</option>`)}</select></div>
      <div class="field grow"><label for="t-text">${t.name}</label><input id="t-text" value=${sel.name} onChange=${set('name')} /></div>
      <div class="field"><label for="t-price">${t.price}</label><input id="t-price" inputmode="numeric" value=${sel.price} onChange=${set('price')} /></div>
    </form>
    <figure class="pic card"><img src=${src} alt=${`${t.preview}: ${sel.template}, ${sel.labelType}`} data-testid="preview" /><figcaption>${t.preview}</figcaption></figure>
    ${warnings.length > 0
      ? html`<section class="card" data-testid="render-warnings"><h2>${t.renderWarnings}</h2><ul>${warnings.map((w) => html`<li>${w}</li>`)}</ul></section>`
      : null}
  `;
}
