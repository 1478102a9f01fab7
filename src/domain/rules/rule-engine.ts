/**
 * The label-rule engine (issue 14, docs/decisions.md D49–D50): the one writer of `rule_effects`, `rule_history` and
 * `pricing_pending`. Intake marks the products a change touches (pricing_pending, in the event's transaction); a pass
 * evaluates their rules (rule-eval.ts, pure), writes what changed, records each decision in the history, raises an
 * alert for a price a guard refused, marks the products' labels dirty through the label store (D17) and brings the
 * till's price feed up to date — all in one transaction, so a crash leaves either all of it or the marks to redo.
 *
 * Rules run here, at the edge, on the injected clock: they keep working while the uplink is down, and tests drive
 * them through windows and DST days deterministically. A minute tick ends effects whose end passed (a window's
 * next occurrence is then scheduled) and announces price boundaries that came within the feed's horizon.
 */
import type { Database, Tx } from '../../persistence/database.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { CoalescingRunner } from '../../core/coalescing-runner.js';
import { EdgeErrorCode, errorMessage } from '#contracts';
import type { LabelStore } from '../labels/label-store.js';
import { enqueue } from '../outbox/outbox.js';
import { gtinsWithBoundaries, refreshPriceFeedManyTx } from '../feeds/price-feed.js';
import { loadRules, type ActiveRuleSet } from './rule-store.js';
import { evaluateRules, type Effect, type EffectKind, type ProductFacts } from './rule-eval.js';
import { ceilMinute } from './store-time.js';

/**
 * Products per pass (one transaction). A pass holds the one database queue (D3), so a large one makes every intake
 * tick behind it wait: 2,000 products held the queue ~2 s and cut durable intake from ~19,000 to 800 events/s (bench/
 * intake after the merge of issue 14). Since D122 a pass reads its products' effects, effective prices and the till's
 * rows with a few statements for all of them (before: ~10 per product, so 16 products were ~150 trips to sqlite and a
 * 50,000-product price list reached the till's feed after ~15 minutes): a pass is about a dozen trips whatever its
 * size, but its statements' own work grows with it — 256 products held the queue ~200 ms on a loaded machine (10,000
 * labels at 5×), so 64. While intake ticks wait, a pass takes one product anyway (MIN_PER_PASS).
 */
export const PASS_PRODUCTS = 64;
/**
 * While a backlog remains, the engine rests this many times as long as its last pass took before the next one, so it
 * takes at most a quarter of the database queue and intake keeps the rest (D55). The feed then runs behind a flood
 * and catches up after it; a price is announced with its own effective instant, so lateness shifts no price.
 */
const REST_FACTOR = 3;
/**
 * A pass stops evaluating, after this many products, when an intake tick waits for the database (D66, D97); the
 * products evaluated are then announced together and the rest stays marked. Only products with rules or effects cost
 * statements of their own (D122).
 */
const MIN_PER_PASS = 1;
const MAX_REST_MS = 1_000;
const TICK_MS = 60_000;

interface EffectRow {
  rule_id: string;
  kind: EffectKind;
  status: 'active' | 'refused';
  cents: number | null;
  start_at: number;
  end_at: number | null;
  reason: string | null;
  badge: string | null;
  detail: string | null;
}

function fromRow(r: EffectRow): Effect {
  return { ruleId: r.rule_id, kind: r.kind, status: r.status, cents: r.cents, startAt: r.start_at, endAt: r.end_at, reason: r.reason, badge: r.badge, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null };
}

function same(a: Effect, b: Effect): boolean {
  return a.status === b.status && a.cents === b.cents && a.startAt === b.startAt && a.endAt === b.endAt && a.reason === b.reason && a.badge === b.badge && JSON.stringify(a.detail) === JSON.stringify(b.detail);
}

export interface RuleEngineDeps {
  db: Database;
  labels: Pick<LabelStore, 'markDirtyTx'>;
  clock: Clock;
  log: Logger;
  /** The store id, filled into a web-shop link's {store}. */
  storeId: string;
  /** An event-driven switch happens at the first whole minute at least this far ahead (till and labels together). */
  switchLeadMs: number;
  /** How far ahead price changes are announced to the till (the labels' pre-staging lead). */
  horizonMs: number;
  /** After a pass that changed rule effects (the planner re-plans the dirty labels). */
  onChanged: () => void;
  /** After a pass that put messages into the outbox (alerts, price feed). */
  onOutbox: () => void;
}

export class RuleEngine {
  /** One rule pass at a time; kicks during a pass coalesce into one more (D90). */
  private readonly runner: CoalescingRunner;
  private timer: TimerHandle | null = null;
  /** Price boundaries up to this instant were announced to the till. */
  private horizonDone: number;

  constructor(private readonly deps: RuleEngineDeps) {
    this.horizonDone = deps.clock.now();
    this.runner = new CoalescingRunner({
      pass: () => this.loop(),
      onError: (err) => this.deps.log.error({ evt: 'rules.failed', err: errorMessage(err) }, 'rule pass failed; will retry'),
      clock: deps.clock,
      retryAfterErrorMs: 5_000,
    });
  }

  private get stopped(): boolean {
    return this.runner.stopped;
  }

  start(): void {
    const tick = () => {
      this.kick();
      this.timer = this.deps.clock.setTimeout(tick, TICK_MS - (this.deps.clock.now() % TICK_MS) || TICK_MS);
    };
    this.timer = this.deps.clock.setTimeout(tick, TICK_MS - (this.deps.clock.now() % TICK_MS) || TICK_MS);
    this.kick();
  }

  /** Runs no more passes; resolves when the pass under way has ended. */
  stop(): Promise<void> {
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    return this.runner.stop();
  }

  /** Runs a pass soon; calls coalesce into one running pass plus at most one more. */
  kick(): void {
    this.runner.kick();
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }

  private async loop(): Promise<void> {
    for (;;) {
      const started = this.deps.clock.now();
      const r = await this.pass();
      if (r.changed) this.deps.onChanged();
      if (r.outbox) this.deps.onOutbox();
      if (!r.more || this.stopped) break;
      const rest = Math.min(MAX_REST_MS, REST_FACTOR * (this.deps.clock.now() - started));
      if (rest > 0) await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, rest));
      if (this.stopped) break;
    }
  }

  /** One transaction: up to PASS_PRODUCTS marked products, effects that ended, boundaries that entered the horizon. */
  async pass(): Promise<{ changed: boolean; outbox: boolean; more: boolean }> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const switchAt = ceilMinute(now + this.deps.switchLeadMs);
    const horizonEnd = now + Math.max(this.deps.horizonMs, this.deps.switchLeadMs + 60_000);
    let changed = false;
    let outbox = false;
    let more = false;
    await db.transaction(async (tx) => {
      const pending = (await tx.all<{ gtin: string }>('SELECT gtin FROM pricing_pending ORDER BY gtin LIMIT ?', [PASS_PRODUCTS])).map((r) => r.gtin);
      const ended = (await tx.all<{ gtin: string }>('SELECT DISTINCT gtin FROM rule_effects WHERE end_at IS NOT NULL AND end_at <= ?', [now])).map((r) => r.gtin);
      const rules = pending.length > 0 || ended.length > 0 ? await loadRules(tx) : null;
      // Every product's effects in one read (D122): a product's evaluation writes only its own rows, so what is read
      // here is what its evaluation would have read.
      const effects = new Map<string, EffectRow[]>();
      if (rules) {
        for (const r of await tx.all<EffectRow & { gtin: string }>(
          'SELECT gtin, rule_id, kind, status, cents, start_at, end_at, reason, badge, detail FROM rule_effects WHERE gtin IN (SELECT value FROM json_each(?))',
          [JSON.stringify([...new Set([...ended, ...pending])])],
        )) {
          let list = effects.get(r.gtin);
          if (!list) effects.set(r.gtin, (list = []));
          list.push(r);
        }
      }
      // The pass can end after any product (D66); the products evaluated are announced together at its end (D122).
      const done = new Set<string>();
      const one = async (gtin: string) => {
        const r = await this.evaluateTx(tx, rules!, gtin, now, switchAt, effects.get(gtin) ?? []);
        if (r.changed) {
          changed = true;
          await this.deps.labels.markDirtyTx(tx, gtin);
        }
        if (r.alerts > 0) outbox = true;
        done.add(gtin);
      };
      // Effects that ended are due now: always whole (few, and timed).
      for (const gtin of ended) if (!done.has(gtin)) await one(gtin);
      const taken: string[] = [];
      for (const gtin of pending) {
        if (!done.has(gtin)) await one(gtin);
        taken.push(gtin);
        // An acknowledgement waits for the connection (an intake tick): end the pass here, the rest stays marked.
        if (taken.length >= MIN_PER_PASS && db.urgentWaiting) break;
      }
      more = pending.length === PASS_PRODUCTS || taken.length < pending.length;
      const announce = new Set([...done, ...(await gtinsWithBoundaries(tx, this.horizonDone, horizonEnd))]);
      if ((await refreshPriceFeedManyTx(tx, [...announce], now, horizonEnd - now)) > 0) outbox = true;
      if (taken.length > 0) tx.runLater('DELETE FROM pricing_pending WHERE gtin IN (SELECT value FROM json_each(?))', [JSON.stringify(taken)]);
    }, { begin: 'with-first-write' });
    this.horizonDone = Math.max(this.horizonDone, horizonEnd);
    return { changed, outbox, more };
  }

  /** Evaluates one product's rules and writes the difference; returns whether anything changed and alerts raised. */
  private async evaluateTx(tx: Tx, set: ActiveRuleSet, gtin: string, now: number, switchAt: number, rows: readonly EffectRow[]): Promise<{ changed: boolean; alerts: number }> {
    const current = new Map(rows.map((r) => [r.rule_id, fromRow(r)] as const));
    // Without rules (and without effects left to withdraw) there is nothing to evaluate: skip the product's facts.
    const facts = set.rules.length > 0 || rows.length > 0 ? await this.factsTx(tx, gtin, now) : undefined;
    const wanted = facts ? evaluateRules({ rules: set.rules, timeZone: set.timeZone, facts, current, now, switchAt }) : [];
    let changed = false;
    let alerts = 0;
    const wantedIds = new Set<string>();
    for (const w0 of wanted) {
      const w = this.withStore(w0);
      wantedIds.add(w.ruleId);
      const cur = current.get(w.ruleId);
      const finished = cur !== undefined && cur.endAt !== null && cur.endAt <= now;
      if (cur && !finished && same(cur, w)) continue;
      await this.upsertTx(tx, gtin, w, now);
      changed = true;
      const action = w.status === 'refused' ? 'refused' : !cur || finished ? (w.startAt > now ? 'scheduled' : 'applied') : 'changed';
      await this.historyTx(tx, gtin, w, action, now);
      if (w.status === 'refused' && (cur?.status !== 'refused' || finished)) {
        alerts++;
        const id = `rule-refused-${w.ruleId}-${gtin}-${now}`;
        await enqueue(tx, { id, topic: 'out/alerts', payload: { id, type: 'rule-refused', code: EdgeErrorCode.RULE_PRICE_GUARD, gtin, ruleId: w.ruleId, priceCents: w.cents, ...w.detail, at: new Date(now).toISOString() } }, now);
        this.deps.log.warn({ evt: 'rules.refused', gtin, ruleId: w.ruleId, cents: w.cents, guard: w.detail?.guard }, 'a rule price crossed a price guard; not applied');
      }
    }
    for (const cur of current.values()) {
      if (wantedIds.has(cur.ruleId)) continue;
      const finished = cur.endAt !== null && cur.endAt <= now;
      if (finished || cur.status === 'refused' || cur.startAt > now) {
        // Over, a refusal no longer needed, or not begun: the row goes (the history keeps what happened).
        await tx.run('DELETE FROM rule_effects WHERE gtin = ? AND rule_id = ?', [gtin, cur.ruleId]);
        changed = true;
        if (!finished) await this.historyTx(tx, gtin, cur, cur.status === 'refused' ? 'cleared' : 'cancelled', now);
        else await this.historyTx(tx, gtin, cur, 'ended', now);
        continue;
      }
      if (cur.endAt !== null && cur.endAt <= switchAt) continue; // already ending no later than a new end would
      const ending = { ...cur, endAt: switchAt };
      await this.upsertTx(tx, gtin, ending, now);
      await this.historyTx(tx, gtin, ending, 'ending', now);
      changed = true;
    }
    return { changed, alerts };
  }

  private withStore(e: Effect): Effect {
    const url = e.detail?.url;
    if (typeof url !== 'string') return e;
    return { ...e, detail: { ...e.detail, url: url.replaceAll('{store}', encodeURIComponent(this.deps.storeId)) } };
  }

  private async factsTx(tx: Tx, gtin: string, now: number): Promise<ProductFacts | undefined> {
    const product = await tx.get<{ category: string | null }>('SELECT category FROM products WHERE gtin = ?', [gtin]);
    const price = await tx.get<{ cents: number }>('SELECT cents FROM prices WHERE gtin = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1', [gtin, now]);
    if (!product || !price) return undefined;
    const stock = await tx.get<{ quantity: number; state: string }>('SELECT quantity, state FROM stock WHERE gtin = ?', [gtin]);
    const lot = await tx.get<{ bb: string | null }>('SELECT min(best_before) AS bb FROM lots WHERE gtin = ? AND quantity > 0', [gtin]);
    return { gtin, category: product.category, regularCents: price.cents, stock: stock ?? null, earliestBestBefore: lot?.bb ?? null };
  }

  private async upsertTx(tx: Tx, gtin: string, e: Effect, now: number): Promise<void> {
    await tx.run(
      `INSERT INTO rule_effects (gtin, rule_id, kind, status, cents, start_at, end_at, reason, badge, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(gtin, rule_id) DO UPDATE SET kind = excluded.kind, status = excluded.status, cents = excluded.cents, start_at = excluded.start_at,
         end_at = excluded.end_at, reason = excluded.reason, badge = excluded.badge, detail = excluded.detail, updated_at = excluded.updated_at`,
      [gtin, e.ruleId, e.kind, e.status, e.cents, e.startAt, e.endAt, e.reason, e.badge, e.detail ? JSON.stringify(e.detail) : null, now],
    );
  }

  private async historyTx(tx: Tx, gtin: string, e: Effect, action: string, now: number): Promise<void> {
    await tx.run('INSERT INTO rule_history (at, gtin, rule_id, kind, action, cents, start_at, end_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      now,
      gtin,
      e.ruleId,
      e.kind,
      action,
      e.status === 'active' ? e.cents : null,
      e.startAt,
      e.endAt,
      e.detail || e.reason ? JSON.stringify({ ...(e.detail ?? {}), ...(e.reason ? { reason: e.reason } : {}), ...(e.status === 'refused' ? { refusedCents: e.cents } : {}) }) : null,
    ]);
  }
}

/** What the history says about a product's rules (label history, audit): newest first. */
export async function ruleHistory(db: Database, gtin: string, limit = 50): Promise<{ at: number; ruleId: string; kind: string; action: string; cents: number | null; startAt: number | null; endAt: number | null; detail: unknown }[]> {
  const rows = await db.all<{ at: number; rule_id: string; kind: string; action: string; cents: number | null; start_at: number | null; end_at: number | null; detail: string | null }>(
    'SELECT at, rule_id, kind, action, cents, start_at, end_at, detail FROM rule_history WHERE gtin = ? ORDER BY seq DESC LIMIT ?',
    [gtin, limit],
  );
  return rows.map((r) => ({ at: r.at, ruleId: r.rule_id, kind: r.kind, action: r.action, cents: r.cents, startAt: r.start_at, endAt: r.end_at, detail: r.detail ? (JSON.parse(r.detail) as unknown) : null }));
}
