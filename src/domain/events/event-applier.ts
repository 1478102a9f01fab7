/**
 * Applies validated events inside one transaction: de-duplication by id, staleness by entity version, then the
 * change itself, and marks the affected labels dirty in the same transaction — so a crash after the commit can
 * never lose the fact that labels must be re-planned (docs/decisions.md D4).
 */
import type { Tx } from '../../persistence/database.js';
import type { SingleEvent } from './event-schemas.js';
import { enqueue } from '../outbox/outbox.js';
import type { LabelStore } from '../labels/label-store.js';

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/** The entity whose version orders events of this kind. */
export function entityKey(e: SingleEvent): string {
  switch (e.type) {
    case 'product':
      return `product:${e.data.gtin}`;
    case 'price':
      return `price:${e.data.gtin}`;
    case 'stock':
      return `stock:${e.data.gtin}`;
    case 'promotion':
      return `promotion:${e.data.promotionId}`;
    case 'binding':
      return `binding:${e.data.labelId}`;
  }
}

export class EventApplier {
  constructor(
    private readonly tx: Tx,
    private readonly now: number,
    /** The owner of label state: dirty marks and bindings are written in this transaction through it (D17). */
    private readonly labels: Pick<LabelStore, 'markDirtyTx' | 'bindTx'>,
  ) {}

  private readonly stmts = new Map<string, ReturnType<Tx['prepare']>>();
  private stmt(sql: string) {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.tx.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async isDuplicate(id: string): Promise<boolean> {
    return (await this.stmt('SELECT 1 AS x FROM events WHERE id = ?').get([id])) !== undefined;
  }

  async apply(e: SingleEvent): Promise<ApplyOutcome> {
    if (await this.isDuplicate(e.id)) return 'duplicate';
    const key = entityKey(e);
    const seen = await this.stmt('SELECT version FROM entity_versions WHERE entity = ?').get<{ version: number }>([key]);
    if (seen && e.version <= seen.version) {
      await this.record(e, 'stale', `version ${e.version} is not newer than ${seen.version} for ${key}`);
      return 'stale';
    }
    await this.stmt('INSERT INTO entity_versions (entity, version) VALUES (?, ?) ON CONFLICT(entity) DO UPDATE SET version = excluded.version').run([
      key,
      e.version,
    ]);
    await this.change(e);
    await this.record(e, 'applied');
    return 'applied';
  }

  private async record(e: SingleEvent, status: 'applied' | 'stale', reason?: string): Promise<void> {
    await this.stmt('INSERT INTO events (id, source, type, version, received_at, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)').run([
      e.id,
      e.source,
      e.type,
      e.version,
      this.now,
      status,
      reason ?? null,
    ]);
  }

  /**
   * A product at or below its restock threshold raises one alert; further stock events do not repeat it until the
   * product was restocked above the threshold (then a "restocked" notice clears it).
   */
  private async restockAlert(gtin: string): Promise<void> {
    const s = await this.tx.get<{ quantity: number; restock_threshold: number | null; alert_active: number }>(
      'SELECT quantity, restock_threshold, alert_active FROM stock WHERE gtin = ?',
      [gtin],
    );
    if (!s) return;
    const low = s.restock_threshold !== null && s.quantity <= s.restock_threshold;
    if (low === (s.alert_active === 1)) return;
    await this.tx.run('UPDATE stock SET alert_active = ? WHERE gtin = ?', [low ? 1 : 0, gtin]);
    const product = await this.tx.get<{ name: string }>('SELECT name FROM products WHERE gtin = ?', [gtin]);
    const kind = low ? 'restock' : 'restocked';
    await enqueue(
      this.tx,
      {
        id: `${kind}-${gtin}-${this.now}`,
        topic: 'out/alerts',
        payload: { id: `${kind}-${gtin}-${this.now}`, type: kind, gtin, name: product?.name ?? null, quantity: s.quantity, threshold: s.restock_threshold, at: new Date(this.now).toISOString() },
      },
      this.now,
    );
    this.alerts++;
  }

  /** Messages this applier put into the outbox (the caller kicks the publishers). */
  alerts = 0;

  private async markDirty(gtin: string): Promise<void> {
    await this.labels.markDirtyTx(this.tx, gtin);
  }

  private async change(e: SingleEvent): Promise<void> {
    switch (e.type) {
      case 'product': {
        const d = e.data;
        await this.stmt(
          `INSERT INTO products (gtin, sku, name, brand, pack_quantity, pack_unit, pack_display, multipack, drained_quantity, loose, category, active, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(gtin) DO UPDATE SET sku = excluded.sku, name = excluded.name, brand = excluded.brand,
             pack_quantity = excluded.pack_quantity, pack_unit = excluded.pack_unit, pack_display = excluded.pack_display,
             multipack = excluded.multipack, drained_quantity = excluded.drained_quantity, loose = excluded.loose,
             category = excluded.category, active = excluded.active, updated_at = excluded.updated_at`,
        ).run([
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
          this.now,
        ]);
        await this.markDirty(d.gtin);
        return;
      }
      case 'price': {
        const d = e.data;
        const validFrom = d.validFrom ? Date.parse(d.validFrom) : this.now;
        await this.stmt(
          `INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(gtin, valid_from) DO UPDATE SET cents = excluded.cents, currency = excluded.currency,
             event_id = excluded.event_id, updated_at = excluded.updated_at`,
        ).run([d.gtin, validFrom, d.priceCents, d.currency, e.id, this.now]);
        await this.markDirty(d.gtin);
        return;
      }
      case 'stock': {
        const d = e.data;
        const threshold = d.restockThreshold ?? null;
        const state = d.state ?? deriveStockState(d.quantity, threshold);
        await this.stmt(
          `INSERT INTO stock (gtin, quantity, state, restock_threshold, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(gtin) DO UPDATE SET quantity = excluded.quantity, state = excluded.state,
             restock_threshold = coalesce(excluded.restock_threshold, stock.restock_threshold), updated_at = excluded.updated_at`,
        ).run([d.gtin, d.quantity, state, threshold, this.now]);
        await this.restockAlert(d.gtin);
        await this.markDirty(d.gtin);
        return;
      }
      case 'promotion': {
        const d = e.data;
        const old = await this.tx.all<{ gtin: string }>('SELECT gtin FROM promotion_items WHERE promotion_id = ?', [d.promotionId]);
        await this.tx.run('DELETE FROM promotions WHERE id = ?', [d.promotionId]);
        if (!d.cancelled) {
          await this.tx.run(
            'INSERT INTO promotions (id, name, badge, start_at, end_at, promo_cents, percent_off, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            [d.promotionId, d.name ?? null, d.badge ?? null, Date.parse(d.start), Date.parse(d.end), d.promoPriceCents ?? null, d.percentOff ?? null, this.now],
          );
          for (const gtin of d.gtins) await this.stmt('INSERT OR IGNORE INTO promotion_items (promotion_id, gtin) VALUES (?, ?)').run([d.promotionId, gtin]);
        }
        for (const gtin of new Set([...old.map((o) => o.gtin), ...d.gtins])) await this.markDirty(gtin);
        return;
      }
      case 'binding': {
        const d = e.data;
        await this.labels.bindTx(this.tx, d.labelId, d.gtin, d.template ?? null);
        return;
      }
    }
  }
}

/** Without an explicit state: out of stock at 0, "low" at or below the restock threshold. */
export function deriveStockState(quantity: number, threshold: number | null): 'in_stock' | 'low' | 'out_of_stock' {
  if (quantity <= 0) return 'out_of_stock';
  if (threshold !== null && quantity <= threshold) return 'low';
  return 'in_stock';
}
