import { html } from 'htm/preact';
import { useFetch } from '../use-fetch.js';
import type { PageProps } from './page-props.js';

interface EventRow {
  id: string;
  source: string;
  type: string;
  receivedAt: number;
  status: string;
  reason: string | null;
}
interface DeadLetter {
  seq: number;
  receivedAt: number;
  channel: string;
  source: string | null;
  eventId: string | null;
  code: string;
  reason: string;
  payloadStart: string | null;
}

export function Events({ t, fmt, version }: PageProps) {
  const events = useFetch<{ events: EventRow[] }>('/events?limit=100', [version]);
  const dead = useFetch<{ deadLetters: DeadLetter[] }>('/dead-letters?limit=100', [version]);
  return html`
    <h1>${t.events}</h1>
    <section class="card" aria-labelledby="h-ev">
      <h2 id="h-ev">${t.recentEvents}</h2>
      <div class="table-wrap">
        <table data-testid="events">
          <thead><tr><th scope="col">${t.time}</th><th scope="col">ID</th><th scope="col">${t.type}</th><th scope="col">${t.source}</th><th scope="col">${t.outcome}</th><th scope="col">${t.reason}</th></tr></thead>
          <tbody>
            ${(events.data?.events ?? []).map(
              (e) => html`<tr data-status=${e.status}><td>${fmt.dateTime(e.receivedAt)}</td><td><code>${e.id}</code></td><td>${e.type}</td><td>${e.source}</td><td><span class=${`badge ev-${e.status}`}>${e.status}</span></td><td>${e.reason ?? ''}</td></tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${events.data && events.data.events.length === 0 ? html`<p>${t.noRows}</p>` : null}
    </section>
    <section class="card" aria-labelledby="h-dl">
      <h2 id="h-dl">${t.deadLetters}</h2>
      <div class="table-wrap">
        <table data-testid="dead-letters">
          <thead><tr><th scope="col">${t.time}</th><th scope="col">${t.channel}</th><th scope="col">ID</th><th scope="col">${t.code}</th><th scope="col">${t.reason}</th><th scope="col">Payload</th></tr></thead>
          <tbody>
            ${(dead.data?.deadLetters ?? []).map(
              (d) => html`<tr><td>${fmt.dateTime(d.receivedAt)}</td><td>${d.channel}</td><td><code>${d.eventId ?? '—'}</code></td><td><code>${d.code}</code></td><td>${d.reason}</td><td><code class="payload">${d.payloadStart ?? ''}</code></td></tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${dead.data && dead.data.deadLetters.length === 0 ? html`<p>${t.noRows}</p>` : null}
    </section>
  `;
}
