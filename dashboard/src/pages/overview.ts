import { html } from 'htm/preact';
import { STATES } from '../api.js';
import { useFetch } from '../use-fetch.js';
import type { PageProps } from './page-props.js';

/** §4.8 An AP's wake-report state as GET /api/v1/aps gives it (D89). */
type WakeReports = 'unsupported' | 'disabled' | 'pending' | 'on' | 'refused' | 'off';
/** `on` is wake-aware staging (D35); `refused` is the D19 fallback on an AP that could report, so it stands out. */
const WAKE_BADGE: Record<WakeReports, string> = { on: 'badge ok', pending: 'badge info', refused: 'badge warn', off: 'badge grey', unsupported: 'badge grey', disabled: 'badge grey' };

interface OverviewData {
  summary: { total: number; counts: Record<string, number>; priceMismatches: number; generatedAt: number };
  timeToConsistencyMs: { p50: number | null; p95: number | null; samples: number };
  timeToConsistencyByChange: { changedAt: string; labels: number; consistent: number; p50: number | null; p95: number | null }[];
  mismatches: { labelId: string; gtin: string | null; name: string | null; shownPriceCents: number | null; tillPriceCents: number | null; since: number | null }[];
  aps: { apId: string; online: boolean; queueDepth: number; queueCapacity: number; labels: number; avgRssi: number | null; avgLqi: number | null; wakeReports: WakeReports }[];
  alerts: ({ type: 'restock'; gtin: string; name: string | null; quantity: number } | { type: 'battery'; labelId: string; batteryMv: number | null } | { type: 'not_heard'; labelId: string })[];
}

export function Overview({ t, fmt, version }: PageProps) {
  const { data, error } = useFetch<OverviewData>('/overview', [version]);
  if (!data) return html`<h1>${t.overview}</h1><p>${error ? `${t.error}: ${error}` : t.loading}</p>`;
  const s = data.summary;
  return html`
    <h1>${t.overview}</h1>
    <section aria-labelledby="h-states" class="card">
      <h2 id="h-states">${t.labelsByState} <span class="muted">(${fmt.number(s.total)} ${t.total})</span></h2>
      <ul class="counts">
        ${STATES.map(
          (st) => html`<li>
            <a class=${`count state-${st}`} href=${`#/labels?state=${st}`} data-testid=${`count-${st}`} data-count=${s.counts[st] ?? 0}>
              <span class="n">${fmt.number(s.counts[st] ?? 0)}</span>
              <span class="l">${t.states[st]}</span>
            </a>
          </li>`,
        )}
      </ul>
    </section>
    <div class="grid2">
      <section aria-labelledby="h-mm" class="card">
        <h2 id="h-mm">${t.mismatches} <span class="muted" data-testid="mismatch-count">(${fmt.number(s.priceMismatches)})</span></h2>
        ${data.mismatches.length === 0
          ? html`<p>${t.noMismatches}</p>`
          : html`<ul class="plain" data-testid="mismatches">
              ${data.mismatches.map(
                (m) => html`<li>
                  <a href=${`#/labels/${m.labelId}`}>${m.name ?? m.gtin ?? m.labelId}</a>:${' '}<span class="mismatch" data-label=${m.labelId}>${t.shows(fmt.euro(m.shownPriceCents), fmt.euro(m.tillPriceCents), fmt.time(m.since))}</span>
                </li>`,
              )}
            </ul>`}
      </section>
      <section aria-labelledby="h-ttc" class="card">
        <h2 id="h-ttc">${t.ttc}</h2>
        <p>${t.ttcLine(fmt.duration(data.timeToConsistencyMs.p50), fmt.duration(data.timeToConsistencyMs.p95), data.timeToConsistencyMs.samples)}</p>
        ${data.timeToConsistencyByChange.length > 0
          ? html`<h3>${t.recentChanges}</h3>
              <ul class="plain" data-testid="changes">
                ${data.timeToConsistencyByChange.map(
                  (c) => html`<li>${t.changeLine(fmt.time(Date.parse(c.changedAt)), c.labels, c.consistent, fmt.duration(c.p50), fmt.duration(c.p95))}</li>`,
                )}
              </ul>`
          : null}
      </section>
    </div>
    <div class="grid2">
      <section aria-labelledby="h-aps" class="card">
        <h2 id="h-aps">${t.aps}</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">${t.ap}</th><th scope="col">${t.status}</th><th scope="col">${t.queue}</th><th scope="col">${t.labels}</th><th scope="col">${t.link}</th><th scope="col">${t.wakeReports}</th></tr></thead>
            <tbody>
              ${data.aps.map(
                (a) => html`<tr>
                  <th scope="row"><a href=${`#/labels?ap=${encodeURIComponent(a.apId)}`}>${a.apId}</a></th>
                  <td><span class=${a.online ? 'badge ok' : 'badge bad'}>${a.online ? t.online : t.offlineAp}</span></td>
                  <td>${a.queueDepth} / ${a.queueCapacity}</td>
                  <td>${fmt.number(a.labels)}</td>
                  <td>${a.avgRssi ?? '—'} dBm / ${a.avgLqi ?? '—'}</td>
                  <td>
                    <span class=${WAKE_BADGE[a.wakeReports] ?? 'badge grey'} data-testid=${`wake-reports-${a.apId}`} data-state=${a.wakeReports} title=${a.wakeReports === 'on' ? undefined : t.wakeReportsFallback}
                      >${t.wakeReportStates[a.wakeReports] ?? a.wakeReports}</span
                    >
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="h-alerts" class="card">
        <h2 id="h-alerts">${t.alerts}</h2>
        ${data.alerts.length === 0
          ? html`<p>${t.noAlerts}</p>`
          : html`<ul class="plain">
              ${data.alerts.map((a) =>
                a.type === 'restock'
                  ? html`<li>${t.alertRestock(a.name ?? a.gtin, a.quantity)}</li>`
                  : a.type === 'battery'
                    ? html`<li><a href=${`#/labels/${a.labelId}`}>${t.alertBattery(a.labelId, a.batteryMv === null ? '—' : `${(a.batteryMv / 1000).toFixed(2)} V`)}</a></li>`
                    : html`<li><a href=${`#/labels/${a.labelId}`}>${t.alertNotHeard(a.labelId)}</a></li>`,
              )}
            </ul>`}
      </section>
    </div>
  `;
}
