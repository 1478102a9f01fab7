/**
 * Issue 12: content is checked for coherence where it enters, the preview API included, and a preview says what it
 * had to shorten. A promotion whose "statt" price is above the §11 lowest price (D12) is refused (422
 * CONTENT_INCOHERENT); a name too long to set legibly is shortened and reported in `x-render-warnings`; an event
 * with a price of 0 is refused at intake (PRICE_IMPLAUSIBLE) with a store alert, unless it says it is intended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/core/logger.js';
import { PROMOTION } from '../../src/domain/rendering/sample-content.js';
import { authHeaders, catalogueBatch, tempDir, testConfig } from '../support/edge-fixture.js';

describe('preview API: coherence and render warnings (issue 12)', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  const json = { ...authHeaders(), 'content-type': 'application/json' };
  beforeAll(async () => {
    daemon = await startDaemon(testConfig(tmp.dir), { log: createLogger({ level: 'silent' }), listenHttp: false });
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  it('refuses a "statt" price above the §11 lowest price (422 CONTENT_INCOHERENT)', async () => {
    const content = { ...PROMOTION, promotion: { ...PROMOTION.promotion!, regularPriceCents: 179, lowestPrior30dCents: 169 } };
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/templates/price-promotion/preview.png?labelType=epd-213-bwr', headers: json, payload: JSON.stringify(content) });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'CONTENT_INCOHERENT' });
    expect((res.json() as { message: string }).message).toMatch(/179.*169/);
  });

  it('renders coherent content with an empty warning list', async () => {
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/templates/price-promotion/preview.png?labelType=epd-213-bwr', headers: json, payload: JSON.stringify(PROMOTION) });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(decodeURIComponent(String(res.headers['x-render-warnings'])))).toEqual([]);
  });

  it('reports a name shortened to stay legible in x-render-warnings', async () => {
    const name = 'Feinkost-Heringsfilets in Sahne-Meerrettich-Soße nach Hausfrauenart mit Gurke, Zwiebeln und Äpfeln, 2 × 200 g';
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/templates/price-promotion/preview.png?labelType=epd-154-bw', headers: json, payload: JSON.stringify({ ...PROMOTION, name }) });
    expect(res.statusCode).toBe(200);
    const warnings = JSON.parse(decodeURIComponent(String(res.headers['x-render-warnings']))) as string[];
    expect(warnings.some((w) => w.startsWith('TEXT_SHORTENED: text "') && w.includes('Feinkost-Heringsfilets'))).toBe(true);
  });

  it('previews a Chinese name (bundled CJK face, D69) and refuses an emoji, naming the character', async () => {
    const url = '/api/v1/templates/price-standard/preview.png?labelType=epd-29-bwr';
    const ok = await daemon.http.inject({ method: 'POST', url, headers: json, payload: JSON.stringify({ ...PROMOTION, promotion: undefined, name: '老干妈' }) });
    expect(ok.statusCode).toBe(200);
    const res = await daemon.http.inject({ method: 'POST', url, headers: json, payload: JSON.stringify({ ...PROMOTION, promotion: undefined, name: 'Schokolade 🍫' }) });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'CONTENT_UNSUPPORTED_CHARACTER' });
    expect((res.json() as { message: string }).message).toContain('U+1F36B');
  });

  it('refuses a price of 0 at intake with an alert, and applies it when intended', async () => {
    const gtin = (JSON.parse(catalogueBatch()) as { data: { events: { type: string; data: { gtin: string } }[] } }).data.events.find((e) => e.type === 'price')!.data.gtin;
    const zero = { id: 'zero-1', source: 'erp', version: Date.now(), type: 'price', data: { gtin, priceCents: 0 } };
    const refused = await daemon.intake.ingest(JSON.stringify(zero), { channel: 'local' });
    expect(refused.reply).toMatchObject({ status: 'rejected', code: 'PRICE_IMPLAUSIBLE' });
    const alerts = await daemon.db.all<{ payload: string }>("SELECT payload FROM outbox WHERE topic = 'out/alerts'");
    expect(alerts.map((a) => JSON.parse(a.payload) as { type: string; gtin: string })).toContainEqual(expect.objectContaining({ type: 'price-implausible', gtin }));
    const intended = { ...zero, id: 'zero-2', version: Date.now() + 1, data: { gtin, priceCents: 0, intended: true } };
    expect((await daemon.intake.ingest(JSON.stringify(intended), { channel: 'local' })).reply.status).toBe('applied');
  });
});
