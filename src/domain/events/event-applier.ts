/**
 * Applies the events of one group-commit tick inside its transaction (docs/decisions.md D20, D21): de-duplication
 * by id and staleness by entity version are resolved in memory (tick-plan.ts), then every table is written with
 * one set-based statement per kind of change — the rows travel as one JSON array bound to `json_each(?)` — and
 * the affected labels are marked dirty in the same transaction (D4), so a crash after the commit can never lose
 * the fact that labels must be re-planned.
 *
 * Tables are written kind by kind (stock, products, prices, promotions, bindings), each kind in arrival order with
 * the last change of a row winning, as the one-transaction-per-event intake did: the kinds touch different tables,
 * so only the order within a kind matters. The one read across kinds — a restock alert names its product — takes
 * the name as of the stock event's place in the tick (test/events/group-commit.test.ts compares both ways).
 */
import type { Tx } from '../../persistence/database.js';
import type { SingleEvent } from '#contracts';
import { enqueue } from '../outbox/outbox.js';
import { planTick, tickEntities, tickIds, type AppliedEvent, type EventOutcome, type TickEvent } from './tick-plan.js';
import type { LabelStore } from '../labels/label-store.js';
import { writeLotTx, writeRuleSetTx } from '../rules/rule-store.js';

export type { TickEvent, EventOutcome } from './tick-plan.js';
export { entityKey } from './tick-plan.js';

type Data<T extends SingleEvent['type']> = Extract<SingleEvent, { type: T }>['data'];
type StockRow = { gtin: string; quantity: number; state: string; threshold: number | null; alertActive: number; now: number };
/** A stock event, with its product's name if a product event earlier in the same tick set it. */
type StockChange = { data: Data<'stock'>; now: number; job: number; name: string | undefined };

/** `IN (SELECT value FROM json_each(?))`: a whole set as one bound parameter. */
const IN_SET = 'IN (SELECT value FROM json_each(?))';

export class EventApplier {
  /** Gtins whose labels must be re-planned, and labels (re)bound in this tick. */
  private readonly dirtyGtins = new Set<string>();
  private readonly dirtyLabels = new Set<string>();
  /** Whether an applied event of the tick may move the planner's next boundary (see EventOutcome.replan). */
  private boundaries = false;

  constructor(
    private readonly tx: Tx,
    /** The owner of label state: dirty marks and bindings are written in this transaction through it (D17). */
    private readonly labels: Pick<LabelStore, 'markDirtyManyTx' | 'bindManyTx' | 'byGtin'>,
  ) {}

  /** Applies the tick's events in one go; the outcomes are in the order of `events`. */
  async applyTick(events: readonly TickEvent[]): Promise<EventOutcome[]> {
    // The tick's known ids and its entities' versions in one statement: one round trip less per tick (D43).
    const known = new Set<string>();
    const seen = new Map<string, number>();
    for (const r of await this.tx.all<{ version: number | null; key: string }>(
      `SELECT NULL AS version, id AS key FROM events WHERE id IN (SELECT value FROM json_each(?1))
       UNION ALL SELECT version, entity FROM entity_versions WHERE entity IN (SELECT value FROM json_each(?2))`,
      { 1: JSON.stringify(tickIds(events)), 2: JSON.stringify(tickEntities(events)) } as unknown as Record<string, string>,
    )) {
      if (r.version === null) known.add(r.key);
      else seen.set(r.key, r.version);
    }
    const plan = planTick(events, known, seen);
    // The tick's writes go with its next read or its COMMIT, in one trip (D82).
    if (plan.eventRows.length > 0) {
      this.tx.runLater(
        `INSERT INTO events (id, source, type, version, received_at, status, reason)
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6 FROM json_each(?)`,
        [JSON.stringify(plan.eventRows.map((r) => [r.id, r.source, r.type, r.version, r.receivedAt, r.status, r.reason]))],
      );
    }
    if (plan.versions.size > 0) {
      this.tx.runLater(
        `INSERT INTO entity_versions (entity, version) SELECT value->>0, value->>1 FROM json_each(?) WHERE true
         ON CONFLICT(entity) DO UPDATE SET version = excluded.version`,
        [JSON.stringify([...plan.versions])],
      );
    }
    await this.change(plan.applied, plan.outcomes);
    await this.markDirty([...this.dirtyGtins], [...this.dirtyLabels]);
    // Read from the label-state owner's memory, which equals the table at this point of the queue (D17).
    const replan = this.boundaries || this.dirtyLabels.size > 0 || [...this.dirtyGtins].some((g) => this.labels.byGtin(g).length > 0);
    for (const o of plan.outcomes) o.replan = replan;
    return plan.outcomes;
  }

  /**
   * The one place intake marks labels for re-planning (D4): a change counter, incremented once per tick for every
   * label showing one of `gtins` and every label in `labelIds` (just bound or unbound). The planner clears it only
   * if it did not change meanwhile, so one increment per tick means the same as one per event.
   */
  private async markDirty(gtins: string[], labelIds: string[]): Promise<void> {
    await this.labels.markDirtyManyTx(this.tx, gtins, labelIds);
  }

  private async change(applied: readonly AppliedEvent[], outcomes: EventOutcome[]): Promise<void> {
    const products = new Map<string, Data<'product'> & { now: number }>();
    const prices = new Map<string, unknown[]>();
    const stock: StockChange[] = [];
    const names = new Map<string, string>();
    const promotions: { data: Data<'promotion'>; now: number }[] = [];
    const bindings = new Map<string, Data<'binding'>>();
    for (const { event: e, now, job } of applied) {
      // Only an immediate price, a product or a stock change cannot move a boundary (next-boundary.ts).
      if (!(e.type === 'product' || e.type === 'stock' || (e.type === 'price' && priceValidFrom(e.data, now) <= now))) this.boundaries = true;
      switch (e.type) {
        case 'product':
          products.set(e.data.gtin, { ...e.data, now });
          names.set(e.data.gtin, e.data.name);
          break;
        case 'price':
          prices.set(`${e.data.gtin}\u0000${priceValidFrom(e.data, now)}`, priceRow(e.id, e.data, now));
          break;
        case 'stock':
          stock.push({ data: e.data, now, job, name: names.get(e.data.gtin) });
          break;
        case 'promotion':
          promotions.push({ data: e.data, now });
          break;
        case 'binding':
          bindings.set(e.data.labelId, e.data);
          break;
        case 'rules':
          await writeRuleSetTx(this.tx, e.id, e.data, now);
          break;
        case 'lot':
          await writeLotTx(this.tx, e.data, now);
          break;
      }
    }
    // Stock first: its alerts read the names products had before this tick.
    if (stock.length > 0) await this.writeStock(stock, outcomes);
    if (products.size > 0) await this.writeProducts([...products.values()]);
    if (prices.size > 0) await this.writePrices([...prices.values()]);
    for (const p of promotions) await this.writePromotion(p.data, p.now);
    if (bindings.size > 0) await this.writeBindings([...bindings.values()]);
  }

  private async writeProducts(rows: (Data<'product'> & { now: number })[]): Promise<void> {
    const json = rows.map((d) => [
      d.gtin,
      d.sku ?? null,
      d.name,
      d.brand ?? null,
      d.packSize?.quantity ?? null,
      d.packSize?.unit ?? null,
      d.packSize?.display ?? null,
      d.packSize?.multipack ?? null,
      d.packSize?.drainedQuantity ?? null,
      d.loose ? 1 : 0,
      d.category ?? null,
      d.active === false ? 0 : 1,
      d.now,
    ]);
    this.tx.runLater(
      `INSERT INTO products (gtin, sku, name, brand, pack_quantity, pack_unit, pack_display, multipack, drained_quantity, loose, category, active, updated_at)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11, value->>12
       FROM json_each(?) WHERE true
       ON CONFLICT(gtin) DO UPDATE SET sku = excluded.sku, name = excluded.name, brand = excluded.brand,
         pack_quantity = excluded.pack_quantity, pack_unit = excluded.pack_unit, pack_display = excluded.pack_display,
         multipack = excluded.multipack, drained_quantity = excluded.drained_quantity, loose = excluded.loose,
         category = excluded.category, active = excluded.active, updated_at = excluded.updated_at`,
      [JSON.stringify(json)],
    );
    for (const d of rows) this.dirtyGtins.add(d.gtin);
  }

  private async writePrices(rows: unknown[][]): Promise<void> {
    this.tx.runLater(
      `INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?) WHERE true
       ON CONFLICT(gtin, valid_from) DO UPDATE SET cents = excluded.cents, currency = excluded.currency,
         event_id = excluded.event_id, updated_at = excluded.updated_at`,
      [JSON.stringify(rows)],
    );
    for (const r of rows) this.dirtyGtins.add(r[0] as string);
  }

  /**
   * Stock rows are folded in memory, event by event, from their stored state: a product at or below its restock
   * threshold raises one alert; further stock events do not repeat it until the product was restocked above the
   * threshold (then a "restocked" notice clears it). Then the final rows are written in one statement.
   */
  private async writeStock(events: StockChange[], outcomes: EventOutcome[]): Promise<void> {
    const gtins = [...new Set(events.map((e) => e.data.gtin))];
    const state = new Map<string, StockRow>();
    for (const r of await this.tx.all<{ gtin: string; quantity: number; state: string; restock_threshold: number | null; alert_active: number }>(
      `SELECT gtin, quantity, state, restock_threshold, alert_active FROM stock WHERE gtin ${IN_SET}`,
      [JSON.stringify(gtins)],
    )) {
      state.set(r.gtin, { gtin: r.gtin, quantity: r.quantity, state: r.state, threshold: r.restock_threshold, alertActive: r.alert_active, now: 0 });
    }
    const alerts: { kind: 'restock' | 'restocked'; gtin: string; quantity: number; threshold: number | null; now: number; name: string | undefined }[] = [];
    for (const { data: d, now, job, name } of events) {
      const prev = state.get(d.gtin);
      const eventThreshold = d.restockThreshold ?? null;
      // The state derives from the event's own threshold; the stored threshold keeps the last one given.
      const row: StockRow = {
        gtin: d.gtin,
        quantity: d.quantity,
        state: d.state ?? deriveStockState(d.quantity, eventThreshold),
        threshold: eventThreshold ?? prev?.threshold ?? null,
        alertActive: prev?.alertActive ?? 0,
        now,
      };
      const low = row.threshold !== null && row.quantity <= row.threshold;
      if (low !== (row.alertActive === 1)) {
        row.alertActive = low ? 1 : 0;
        alerts.push({ kind: low ? 'restock' : 'restocked', gtin: d.gtin, quantity: row.quantity, threshold: row.threshold, now, name });
        outcomes[job]!.alerts++;
      }
      state.set(d.gtin, row);
    }
    const rows = gtins.map((g) => state.get(g)!);
    await this.tx.run(
      `INSERT INTO stock (gtin, quantity, state, restock_threshold, updated_at, alert_active)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?) WHERE true
       ON CONFLICT(gtin) DO UPDATE SET quantity = excluded.quantity, state = excluded.state,
         restock_threshold = excluded.restock_threshold, updated_at = excluded.updated_at, alert_active = excluded.alert_active`,
      [JSON.stringify(rows.map((r) => [r.gtin, r.quantity, r.state, r.threshold, r.now, r.alertActive]))],
    );
    for (const g of gtins) this.dirtyGtins.add(g);
    if (alerts.length === 0) return;
    const names = new Map(
      (await this.tx.all<{ gtin: string; name: string }>(`SELECT gtin, name FROM products WHERE gtin ${IN_SET}`, [JSON.stringify(alerts.map((a) => a.gtin))])).map((r) => [r.gtin, r.name] as const),
    );
    for (const a of alerts) {
      const id = `${a.kind}-${a.gtin}-${a.now}`;
      await enqueue(
        this.tx,
        { id, topic: 'out/alerts', payload: { id, type: a.kind, gtin: a.gtin, name: a.name ?? names.get(a.gtin) ?? null, quantity: a.quantity, threshold: a.threshold, at: new Date(a.now).toISOString() } },
        a.now,
      );
    }
  }

  private async writePromotion(d: Data<'promotion'>, now: number): Promise<void> {
    const old = await this.tx.all<{ gtin: string }>('SELECT gtin FROM promotion_items WHERE promotion_id = ?', [d.promotionId]);
    await this.tx.run('DELETE FROM promotions WHERE id = ?', [d.promotionId]);
    if (!d.cancelled) {
      await this.tx.run(
        'INSERT INTO promotions (id, name, badge, start_at, end_at, promo_cents, percent_off, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [d.promotionId, d.name ?? null, d.badge ?? null, Date.parse(d.start), Date.parse(d.end), d.promoPriceCents ?? null, d.percentOff ?? null, now],
      );
      await this.tx.run('INSERT OR IGNORE INTO promotion_items (promotion_id, gtin) SELECT ?, value FROM json_each(?)', [d.promotionId, JSON.stringify(d.gtins)]);
    }
    for (const o of old) this.dirtyGtins.add(o.gtin);
    for (const g of d.gtins) this.dirtyGtins.add(g);
  }

  /** Binds (or unbinds, gtin null) labels; a label bound for the first time appears here. */
  private async writeBindings(rows: Data<'binding'>[]): Promise<void> {
    await this.labels.bindManyTx(
      this.tx,
      rows.map((d) => ({ labelId: d.labelId, gtin: d.gtin, template: d.template ?? null })),
    );
    for (const d of rows) this.dirtyLabels.add(d.labelId);
  }
}

function priceValidFrom(d: Data<'price'>, now: number): number {
  return d.validFrom ? Date.parse(d.validFrom) : now;
}

function priceRow(eventId: string, d: Data<'price'>, now: number): unknown[] {
  return [d.gtin, priceValidFrom(d, now), d.priceCents, d.currency, eventId, now];
}

/** Without an explicit state: out of stock at 0, "low" at or below the restock threshold. */
export function deriveStockState(quantity: number, threshold: number | null): 'in_stock' | 'low' | 'out_of_stock' {
  if (quantity <= 0) return 'out_of_stock';
  if (threshold !== null && quantity <= threshold) return 'low';
  return 'in_stock';
}
