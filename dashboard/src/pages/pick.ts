import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { post } from '../api.js';
import type { PageProps } from './page-props.js';

interface PickResult {
  orderId: string;
  results: { labelId: string; outcome: string }[];
  missingGtins: string[];
  message?: string;
}

/** Click & collect: light up every label of an order's products (pick-to-light, LabelOperations.pick). */
export function Pick({ t, me }: PageProps) {
  const [result, setResult] = useState<PickResult | null>(null);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = e.currentTarget as HTMLFormElement;
    const orderId = (f.elements.namedItem('order') as HTMLInputElement).value.trim();
    const gtins = (f.elements.namedItem('gtins') as HTMLTextAreaElement).value.split(/\s+/).filter(Boolean);
    const r = await post<PickResult>('/orders/pick', { orderId, gtins });
    if (r.status >= 400) {
      setError(r.data.message ?? String(r.status));
      setResult(null);
    } else {
      setError('');
      setResult(r.data);
    }
  };
  return html`
    <h1>${t.pick}</h1>
    ${me.role === 'operator' ? null : html`<p class="muted">${t.viewerOnly}</p>`}
    <form class="card stack" onSubmit=${submit}>
      <label for="p-order">${t.order}</label>
      <input id="p-order" name="order" required maxlength="64" />
      <label for="p-gtins">${t.gtins}</label>
      <textarea id="p-gtins" name="gtins" rows="5" required inputmode="numeric"></textarea>
      <button type="submit" disabled=${me.role !== 'operator'}>${t.lightUp}</button>
    </form>
    <div role="status" aria-live="polite">
      ${error ? html`<p class="error">${t.error}: ${error}</p>` : null}
      ${result
        ? html`<ul class="plain" data-testid="pick-results">
            ${result.results.map((r) => html`<li><a href=${`#/labels/${r.labelId}`}>${r.labelId}</a> → ${r.outcome}</li>`)}
            ${result.missingGtins.map((g) => html`<li>${t.missing}: ${g}</li>`)}
          </ul>`
        : null}
    </div>
  `;
}
