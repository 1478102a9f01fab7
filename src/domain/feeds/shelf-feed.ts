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
import type { Clock, TimerHandle } from '../../core/clock.js';
import { errorMessage, type LabelContent } from '#contracts';
import type { LabelStore } from '../labels/label-store.js';
import type { ImageStore } from '../labels/image-store.js';
import { enqueueManyLater } from '../outbox/outbox.js';
import { lastAutoincrement } from '../../persistence/autoincrement.js';
import { CoalescingRunner } from '../../core/coalescing-runner.js';

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

/**
 * Labels observed per pass: one contents read, one stock read (a statement per 500) and one transaction each. A
 * pass takes what waits, up to this many, so a backlog is worked in bounded steps.
 */
const OBSERVE_BATCH = 2_000;
/**
 * Observations gather this long before a pass looks at them (D122). Labels confirm a few at a time, so without it a
 * repricing ran ~45 passes a second, each two database jobs plus an outbox delivery and its mark (10,000 labels at
 * 5×: ~9 of every 32 s the database queue was held); the feed is for HQ's omnichannel view, where a quarter of a
 * second is nothing. On the injected clock; idle() and stop() do not wait for it.
 */
export const SHELF_GATHER_MS = 250;

export class ShelfFeed {
  private readonly last = new Map<string, Omit<Row, 'seq' | 'gtin' | 'created_at'>>();
  /**
   * Labels to look at, each once however often observed (D115): every check-in and every planned label calls
   * observe(), ~130,000 times in a reference fill. A promise chain of one sqlite round trip per call fell behind by
   * ~180,000 links (30 MB of promises and closures in a heap snapshot) and kept the one queue busy; the set holds at
   * most one entry per label and a pass reads a batch's contents and stock with a few statements.
   */
  private readonly pending = new Set<string>();
  private readonly runner: CoalescingRunner;
  private gather: TimerHandle | null = null;

  constructor(
    private readonly deps: {
      db: Database;
      labels: Pick<LabelStore, 'get'>;
      images: Pick<ImageStore, 'contents'>;
      clock: Clock;
      log: Logger;
      onOutbox: () => void;
    },
  ) {
    this.runner = new CoalescingRunner({
      pass: () => this.drain(),
      onError: (err) => this.deps.log.warn({ evt: 'shelf_feed.failed', err: errorMessage(err) }, 'shelf feed update failed; will retry'),
      clock: deps.clock,
      retryAfterErrorMs: 5_000,
    });
  }

  async load(): Promise<void> {
    const rows = await this.deps.db.all<Row>('SELECT * FROM shelf_feed WHERE seq IN (SELECT max(seq) FROM shelf_feed GROUP BY gtin)');
    for (const r of rows) this.last.set(r.gtin, { price_cents: r.price_cents, regular_cents: r.regular_cents, since: r.since, promotion: r.promotion, stock_state: r.stock_state, quantity: r.quantity });
  }

  /** A label checked in: if it confirms what the edge wants and that differs from the feed, append a row. */
  observe(labelId: string): void {
    this.pending.add(labelId);
    if (this.gather || this.runner.stopped) return;
    this.gather = this.deps.clock.setTimeout(() => {
      this.gather = null;
      this.runner.kick();
    }, SHELF_GATHER_MS);
  }

  /** Looks at what was observed now rather than at the end of the gathering window. */
  private now(): void {
    if (this.gather) this.deps.clock.clearTimeout(this.gather);
    this.gather = null;
    if (this.pending.size > 0) this.runner.kick();
  }

  /** Labels observed and not yet looked at (tests, traces). */
  get waiting(): number {
    return this.pending.size;
  }

  /** Resolves when every observation so far is written (tests, shutdown). */
  idle(): Promise<void> {
    this.now();
    return this.runner.idle();
  }

  /** Stops after the batch under way (shutdown). */
  stop(): Promise<void> {
    if (this.gather) this.deps.clock.clearTimeout(this.gather);
    this.gather = null;
    return this.runner.stop();
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.runner.stopped) {
      const ids: string[] = [];
      for (const id of this.pending) {
        ids.push(id);
        if (ids.length >= OBSERVE_BATCH) break;
      }
      for (const id of ids) this.pending.delete(id);
      try {
        await this.observeMany(ids);
      } catch (err) {
        // Looked at again on the runner's retry: a label's observation is not lost to a failed statement.
        for (const id of ids) this.pending.add(id);
        throw err;
      }
    }
  }

  private async observeMany(ids: readonly string[]): Promise<void> {
    const consistent: { gtin: string; hash: string }[] = [];
    for (const id of ids) {
      const l = this.deps.labels.get(id);
      if (l?.gtin && l.confirmedHash && l.confirmedHash === l.desiredHash) consistent.push({ gtin: l.gtin, hash: l.confirmedHash });
    }
    if (consistent.length === 0) return;
    // contents(): what the cache holds at once, the rest read in batches that do not enter it (the dispatcher's
    // pictures stay cached).
    const contents = await this.deps.images.contents(consistent.map((c) => c.hash));
    const gtins = [...new Set(consistent.map((c) => c.gtin))];
    // Stock is the store's current count, not the one of the content first rendered into this picture (a picture
    // without a stock line is the same image, by hash, whatever the count).
    const stock = new Map<string, { quantity: number; state: string }>();
    for (let i = 0; i < gtins.length; i += 500) {
      const part = gtins.slice(i, i + 500);
      const rows = await this.deps.db.all<{ gtin: string; quantity: number; state: string }>(`SELECT gtin, quantity, state FROM stock WHERE gtin IN (${part.map(() => '?').join(',')})`, part);
      for (const r of rows) stock.set(r.gtin, r);
    }
    const now = this.deps.clock.now();
    const rows: { gtin: string; next: Omit<Row, 'seq' | 'gtin' | 'created_at'> }[] = [];
    // What this batch decided so far, before it is committed (a product's labels are usually in the same batch).
    const decided = new Map<string, Omit<Row, 'seq' | 'gtin' | 'created_at'>>();
    for (const { gtin, hash } of consistent) {
      const content = contents.get(hash);
      if (!content || content.gtin !== gtin) continue;
      const next = fromContent(content, now);
      const s = stock.get(gtin);
      next.stock_state = s?.state ?? next.stock_state;
      next.quantity = s?.quantity ?? next.quantity;
      const prev = decided.get(gtin) ?? this.last.get(gtin);
      if (prev && prev.price_cents === next.price_cents && prev.regular_cents === next.regular_cents && prev.promotion === next.promotion && prev.stock_state === next.stock_state && prev.quantity === next.quantity) continue;
      // The price did not change: it has been shown since the earlier row's instant.
      if (prev && prev.price_cents === next.price_cents && prev.regular_cents === next.regular_cents) next.since = prev.since;
      decided.set(gtin, next);
      rows.push({ gtin, next });
    }
    if (rows.length === 0) return;
    // D122: the rows numbered here and written with the COMMIT, with their outbox messages, in one trip — not two
    // awaited statements per row (a repricing confirms a row per product: 20,000 trips held the database queue
    // ~8 s of every 40 s of a 10,000-label repricing).
    await this.deps.db.transaction(
      async (tx) => {
        const last = await lastAutoincrement(tx, 'shelf_feed');
        const written: Row[] = rows.map(({ gtin, next }, i) => ({ seq: last + 1 + i, gtin, created_at: now, ...next }));
        tx.runLater(
          `INSERT INTO shelf_feed (seq, gtin, price_cents, regular_cents, since, promotion, stock_state, quantity, created_at)
           SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8 FROM json_each(?)`,
          [JSON.stringify(written.map((r) => [r.seq, r.gtin, r.price_cents, r.regular_cents, r.since, r.promotion, r.stock_state, r.quantity, r.created_at]))],
        );
        enqueueManyLater(
          tx,
          written.map((r) => ({ id: `shelf-${r.seq}`, topic: 'out/shelf', payload: toEntry(r) })),
          now,
        );
      },
      { begin: 'with-first-write' },
    );
    for (const { gtin, next } of rows) this.last.set(gtin, next);
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
