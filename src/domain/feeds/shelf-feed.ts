/**
 * The omnichannel shelf feed (issue 14, docs/decisions.md D52, mapping in docs/omnichannel-feed.md): the one writer
 * of `shelf_feed`. Per product, what the shelf in this store *confirmed* — the price a label acknowledged showing
 * (its check-in hash equals what the edge wants it to show) and since when, the promotion and its end, the stock
 * state and quantity, pick-up availability — as rows with a cursor (`GET /api/v1/shelf?since=`, `…/out/shelf` from
 * the durable outbox) and as a full export in a local-inventory-feed layout (CSV and JSON).
 *
 * A row is appended only when what the shelf confirms changes, so a product with four labels yields one row, and
 * a label still showing an old picture (not consistent) never yields one.
 */
import { z } from 'zod';
import type { Database } from '../../persistence/database.js';
import type { Logger } from '../../core/logger.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage, type LabelContent } from '#contracts';
import type { LabelStore } from '../labels/label-store.js';
import type { ImageStore } from '../labels/image-store.js';
import { enqueue } from '../outbox/outbox.js';

export const ShelfPromotionSchema = z.object({
  promotionId: z.string().optional(),
  ruleId: z.string().optional(),
  badge: z.string().optional(),
  /** ISO instant the reduced price ends (exclusive), when known. */
  until: z.string().optional(),
  /** A short-dated markdown's reason (PAngV §11(4) no. 2). */
  reason: z.string().optional(),
});

export const ShelfFeedEntrySchema = z.object({
  seq: z.number().int(),
  gtin: z.string(),
  priceCents: z.number().int(),
  /** The reference price while a reduction is shown, else null. */
  regularPriceCents: z.number().int().nullable(),
  /** Since when the shelf shows this price (ISO). */
  since: z.string(),
  promotion: ShelfPromotionSchema.nullable(),
  stockState: z.string().nullable(),
  quantity: z.number().int().nullable(),
  /** In stock on the shelf: can be picked up (click & collect). */
  pickup: z.boolean(),
  /** The shelf shows the out-of-stock picture of a rule. */
  outOfStockPicture: z.boolean(),
  confirmedAt: z.string(),
});
export type ShelfFeedEntry = z.infer<typeof ShelfFeedEntrySchema>;

interface Row {
  seq: number;
  gtin: string;
  price_cents: number;
  regular_cents: number | null;
  since: number;
  promotion: string | null;
  stock_state: string | null;
  quantity: number | null;
  created_at: number;
}

function pickup(state: string | null, quantity: number | null): boolean {
  return (state === 'in_stock' || state === 'low') && (quantity === null || quantity > 0);
}

function toEntry(r: Row): ShelfFeedEntry {
  const promo = r.promotion ? (JSON.parse(r.promotion) as z.infer<typeof ShelfPromotionSchema> & { oos?: boolean }) : null;
  const { oos, ...promotion } = promo ?? {};
  return {
    seq: r.seq,
    gtin: r.gtin,
    priceCents: r.price_cents,
    regularPriceCents: r.regular_cents,
    since: new Date(r.since).toISOString(),
    promotion: promo && Object.keys(promotion).length > 0 ? promotion : null,
    stockState: r.stock_state,
    quantity: r.quantity,
    pickup: !oos && pickup(r.stock_state, r.quantity),
    outOfStockPicture: oos === true,
    confirmedAt: new Date(r.created_at).toISOString(),
  };
}

/** What a confirmed content says, in the feed's terms (the key compared for "changed"). */
function fromContent(c: LabelContent, now: number): Omit<Row, 'seq' | 'gtin' | 'created_at'> {
  const p = c.promotion;
  const promotion = {
    ...(c.pricing?.promotionId ? { promotionId: c.pricing.promotionId } : {}),
    ...(c.pricing?.ruleId ? { ruleId: c.pricing.ruleId } : {}),
    ...(p?.badge ? { badge: p.badge } : {}),
    ...(p && c.pricing?.until !== undefined ? { until: new Date(c.pricing.until).toISOString() } : {}),
    ...(p?.exemptReason ? { reason: p.exemptReason } : {}),
    ...(c.outOfStock ? { oos: true } : {}),
  };
  return {
    price_cents: c.priceCents,
    regular_cents: p ? p.regularPriceCents : null,
    since: Math.min(c.pricing?.from ?? now, now),
    promotion: Object.keys(promotion).length > 0 ? JSON.stringify(promotion) : null,
    stock_state: c.stock?.state ?? null,
    quantity: c.stock?.quantity ?? null,
  };
}

export class ShelfFeed {
  private readonly last = new Map<string, Omit<Row, 'seq' | 'gtin' | 'created_at'>>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      db: Database;
      labels: Pick<LabelStore, 'get'>;
      images: Pick<ImageStore, 'content'>;
      clock: Clock;
      log: Logger;
      onOutbox: () => void;
    },
  ) {}

  async load(): Promise<void> {
    const rows = await this.deps.db.all<Row>('SELECT * FROM shelf_feed WHERE seq IN (SELECT max(seq) FROM shelf_feed GROUP BY gtin)');
    for (const r of rows) this.last.set(r.gtin, { price_cents: r.price_cents, regular_cents: r.regular_cents, since: r.since, promotion: r.promotion, stock_state: r.stock_state, quantity: r.quantity });
  }

  /** A label checked in: if it confirms what the edge wants and that differs from the feed, append a row. */
  observe(labelId: string): void {
    this.chain = this.chain.then(() => this.observeNow(labelId)).catch((err: unknown) => this.deps.log.warn({ evt: 'shelf_feed.failed', labelId, err: errorMessage(err) }, 'shelf feed update failed'));
  }

  /** Resolves when every observation so far is written (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async observeNow(labelId: string): Promise<void> {
    const l = this.deps.labels.get(labelId);
    if (!l?.gtin || !l.confirmedHash || l.confirmedHash !== l.desiredHash) return;
    const content = await this.deps.images.content(l.confirmedHash);
    if (!content || content.gtin !== l.gtin) return;
    const now = this.deps.clock.now();
    const next = fromContent(content, now);
    // Stock is the store's current count, not the one of the content first rendered into this picture (a picture
    // without a stock line is the same image, by hash, whatever the count).
    const stock = await this.deps.db.get<{ quantity: number; state: string }>('SELECT quantity, state FROM stock WHERE gtin = ?', [l.gtin]);
    next.stock_state = stock?.state ?? next.stock_state;
    next.quantity = stock?.quantity ?? next.quantity;
    const prev = this.last.get(l.gtin);
    if (prev && prev.price_cents === next.price_cents && prev.regular_cents === next.regular_cents && prev.promotion === next.promotion && prev.stock_state === next.stock_state && prev.quantity === next.quantity) return;
    // The price did not change: it has been shown since the earlier row's instant.
    if (prev && prev.price_cents === next.price_cents && prev.regular_cents === next.regular_cents) next.since = prev.since;
    const gtin = l.gtin;
    await this.deps.db.transaction(async (tx) => {
      const r = await tx.run('INSERT INTO shelf_feed (gtin, price_cents, regular_cents, since, promotion, stock_state, quantity, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        gtin,
        next.price_cents,
        next.regular_cents,
        next.since,
        next.promotion,
        next.stock_state,
        next.quantity,
        now,
      ]);
      await enqueue(tx, { id: `shelf-${r.lastID}`, topic: 'out/shelf', payload: toEntry({ seq: r.lastID, gtin, created_at: now, ...next }) }, now);
    });
    this.last.set(gtin, next);
    this.deps.onOutbox();
  }
}

export async function shelfFeedSince(db: Database, since: number, limit: number): Promise<{ entries: ShelfFeedEntry[]; cursor: number }> {
  const rows = await db.all<Row>('SELECT * FROM shelf_feed WHERE seq > ? ORDER BY seq LIMIT ?', [since, limit]);
  return { entries: rows.map(toEntry), cursor: rows.length > 0 ? rows[rows.length - 1]!.seq : since };
}

/** The latest confirmed state of every product, for the full export. */
export async function shelfSnapshot(db: Database): Promise<ShelfFeedEntry[]> {
  const rows = await db.all<Row>('SELECT * FROM shelf_feed WHERE seq IN (SELECT max(seq) FROM shelf_feed GROUP BY gtin) ORDER BY gtin');
  return rows.map(toEntry);
}
