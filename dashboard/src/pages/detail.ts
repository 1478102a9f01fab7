import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { imageUrl, post } from '../api.js';
import { useFetch } from '../use-fetch.js';
import { Scanner } from '../scanner.js';
import type { PageProps } from './page-props.js';

interface DetailData {
  labelId: string;
  status: string;
  gtin: string | null;
  apId: string | null;
  tillPriceCents: number | null;
  shownPriceCents: number | null;
  desiredHash: string | null;
  confirmedHash: string | null;
  desiredSince: number | null;
  lastSeenAt: number | null;
  attempts: number;
  lastError: string | null;
  labelType: { name: string; led: boolean } | null;
  label: { template: string | null; battery_mv: number | null; rssi: number | null; lqi: number | null; transfer_state: string | null } | null;
  product: { name: string; brand: string | null } | null;
  priceHistory: { effective_from: number; cents: number; rule_id?: string | null }[];
  checkins: { at: number; ap_id: string | null; battery_mv: number | null; rssi: number | null; lqi: number | null }[];
  actions: { seq: number; at: number; actor: string; action: string; outcome: string }[];
}

export function Detail({ t, fmt, version, me, labelId }: PageProps & { labelId: string }) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState('');
  const [gtin, setGtin] = useState('');
  const { data, error } = useFetch<DetailData>(`/labels/${labelId}`, [version, tick]);
  const operator = me.role === 'operator';
  const act = async (path: string, body: unknown = {}) => {
    const r = await post<{ outcome?: string; status?: string; message?: string; reason?: string }>(`/labels/${labelId}/${path}`, body);
    setMessage(`${path}: ${r.data.outcome ?? r.data.status ?? ''}${r.data.reason ? ` (${r.data.reason})` : ''}${r.data.message ? ` (${r.data.message})` : ''}`);
    setTick((x) => x + 1);
  };
  if (!data) return html`<h1>${labelId}</h1><p>${error ? `${t.error}: ${error}` : t.loading}</p>`;
  const cur = imageUrl(data.confirmedHash, 2);
  const want = imageUrl(data.desiredHash, 2);
  const picture = (src: string | null, caption: string) =>
    html`<figure class="pic">${src ? html`<img src=${src} alt=${t.imageAlt(labelId, caption)} />` : html`<span class="noimg">${t.noImage}</span>`}<figcaption>${caption}</figcaption></figure>`;
  return html`
    <p><a href="#/labels">← ${t.back}</a></p>
    <h1>${data.product?.name ?? labelId} <code class="muted">${labelId}</code></h1>
    <p>
      <span class=${`badge state-${data.status}`} data-testid="detail-status">${t.states[data.status] ?? data.status}</span>
      ${' '}${t.till}: <strong data-testid="till">${fmt.euro(data.tillPriceCents)}</strong> · ${t.shown}: <strong data-testid="shown">${fmt.euro(data.shownPriceCents)}</strong>
    </p>
    <div class="pics">${picture(cur, t.current)} ${picture(want, t.desired)}</div>
    <section class="card" aria-labelledby="h-actions">
      <h2 id="h-actions">${t.actions}</h2>
      ${operator ? null : html`<p class="muted">${t.viewerOnly}</p>`}
      <div class="buttons">
        <button type="button" disabled=${!operator} onClick=${() => act('flash')}>${t.flash}</button>
        <button type="button" disabled=${!operator} onClick=${() => act('resend')}>${t.resend}</button>
        <button type="button" disabled=${!operator || !data.gtin} onClick=${() => act('unbind')}>${t.unbind}</button>
      </div>
      <form class="bind" onSubmit=${(e: Event) => { e.preventDefault(); void act('bind', { gtin }); }}>
        <label for="bind-gtin">${t.gtin}</label>
        <input id="bind-gtin" name="gtin" inputmode="numeric" pattern="[0-9]{8,14}" autocomplete="off" value=${gtin} onInput=${(e: Event) => setGtin((e.target as HTMLInputElement).value)} />
        <${Scanner} t=${t} onCode=${(c: string) => setGtin(c)} />
        <button type="submit" disabled=${!operator}>${t.bind}</button>
      </form>
      <p role="status" aria-live="polite" data-testid="action-result">${message}</p>
    </section>
    <div class="grid2">
      <section class="card" aria-labelledby="h-facts">
        <h2 id="h-facts">${t.product}</h2>
        <dl class="facts">
          <dt>GTIN</dt><dd>${data.gtin ?? '—'}</dd>
          <dt>${t.template}</dt><dd>${data.label?.template ?? '—'}</dd>
          <dt>${t.labelType}</dt><dd>${data.labelType?.name ?? '—'}</dd>
          <dt>${t.ap}</dt><dd>${data.apId ?? '—'}</dd>
          <dt>${t.lastSeen}</dt><dd>${fmt.dateTime(data.lastSeenAt)}</dd>
          <dt>${t.battery}</dt><dd>${data.label?.battery_mv ? `${(data.label.battery_mv / 1000).toFixed(2)} V` : '—'}</dd>
          <dt>RSSI / LQI</dt><dd>${data.label?.rssi ?? '—'} dBm / ${data.label?.lqi ?? '—'}</dd>
          ${data.lastError ? html`<dt>${t.error}</dt><dd>${data.lastError}</dd>` : null}
        </dl>
        <h3>${t.priceHistory}</h3>
        <ul class="plain">${data.priceHistory.map((p) => html`<li>${fmt.dateTime(p.effective_from)}: ${fmt.euro(p.cents)}${p.rule_id ? ` · ${t.byRule} ${p.rule_id}` : ''}</li>`)}</ul>
      </section>
      <section class="card" aria-labelledby="h-hist">
        <h2 id="h-hist">${t.history}</h2>
        <h3>${t.actionsTrail}</h3>
        ${data.actions.length === 0 ? html`<p>${t.noRows}</p>` : html`<ul class="plain" data-testid="trail">${data.actions.map((a) => html`<li>${fmt.dateTime(a.at)} · ${a.actor} · ${a.action} → ${a.outcome}</li>`)}</ul>`}
        <h3>${t.checkins}</h3>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">${t.time}</th><th scope="col">${t.ap}</th><th scope="col">${t.battery}</th><th scope="col">RSSI</th><th scope="col">LQI</th></tr></thead>
            <tbody>${data.checkins.map((c) => html`<tr><td>${fmt.dateTime(c.at)}</td><td>${c.ap_id ?? '—'}</td><td>${c.battery_mv ?? '—'}</td><td>${c.rssi ?? '—'}</td><td>${c.lqi ?? '—'}</td></tr>`)}</tbody>
          </table>
        </div>
      </section>
    </div>
  `;
}
