/**
 * The one writer of `rule_sets` and `lots` (issue 14). Called by the event applier inside a tick's transaction, so
 * a rule set or lot is durable together with its event id and version (D20), and the products it touches are marked
 * for the rule engine in the same transaction (`markPricingTx`): a crash after the commit cannot lose a rule change.
 *
 * A rule set replaces the whole set of its scope (chain or store) at once — never rule by rule — so labels never show
 * a mix of an old and a new set.
 */
import type { Tx, Database } from '../../persistence/database.js';
import type { LabelStore } from '../labels/label-store.js';
import type { z } from 'zod';
import { LabelRuleSchema, type LabelRule, type LotDataSchema, type RuleSetDataSchema } from '#contracts';

type RuleSetData = z.infer<typeof RuleSetDataSchema>;
type LotData = z.infer<typeof LotDataSchema>;

/** Marks products for the next rule and price-feed pass (rule-engine.ts owns pricing_pending; this is its entry). */
export async function markPricingTx(tx: Tx, gtins: readonly string[]): Promise<void> {
  if (gtins.length === 0) return;
  // Held for the transaction's next statement or COMMIT (D82): intake's ticks write it after everything else.
  tx.runLater('INSERT OR IGNORE INTO pricing_pending (gtin) SELECT value FROM json_each(?)', [JSON.stringify(gtins)]);
}

/** Marks every product the store knows (a rule set changed: any product may be concerned). */
async function markAllTx(tx: Tx): Promise<void> {
  await tx.run('INSERT OR IGNORE INTO pricing_pending (gtin) SELECT gtin FROM products');
}

export async function writeRuleSetTx(tx: Tx, eventId: string, d: RuleSetData, now: number): Promise<void> {
  await tx.run(
    `INSERT INTO rule_sets (scope, time_zone, rules, event_id, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(scope) DO UPDATE SET time_zone = excluded.time_zone, rules = excluded.rules, event_id = excluded.event_id, updated_at = excluded.updated_at`,
    [d.scope, d.timeZone, JSON.stringify(d.rules), eventId, now],
  );
  await markAllTx(tx);
}

export async function writeLotTx(tx: Tx, d: LotData, now: number): Promise<void> {
  if (d.quantity === 0) await tx.run('DELETE FROM lots WHERE gtin = ? AND lot_id = ?', [d.gtin, d.lotId]);
  else {
    await tx.run(
      `INSERT INTO lots (gtin, lot_id, best_before, quantity, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(gtin, lot_id) DO UPDATE SET best_before = excluded.best_before, quantity = excluded.quantity, updated_at = excluded.updated_at`,
      [d.gtin, d.lotId, d.bestBefore, d.quantity, now],
    );
  }
  await markPricingTx(tx, [d.gtin]);
}

export interface ActiveRuleSet {
  timeZone: string;
  rules: LabelRule[];
}

/** The rules in force: the chain's set, with the store's rules replacing chain rules of the same id. */
export async function loadRules(db: Database | Tx): Promise<ActiveRuleSet> {
  const rows = await db.all<{ scope: string; time_zone: string; rules: string }>('SELECT scope, time_zone, rules FROM rule_sets');
  const chain = rows.find((r) => r.scope === 'chain');
  const store = rows.find((r) => r.scope === 'store');
  const byId = new Map<string, LabelRule>();
  for (const set of [chain, store]) {
    if (!set) continue;
    for (const raw of JSON.parse(set.rules) as unknown[]) {
      const r = LabelRuleSchema.parse(raw);
      byId.set(r.id, r);
    }
  }
  return { timeZone: store?.time_zone ?? chain?.time_zone ?? 'Europe/Berlin', rules: [...byId.values()] };
}

type IntakeLabels = Pick<LabelStore, 'markDirtyManyTx' | 'bindManyTx' | 'byGtin'>;

/**
 * The label store as intake sees it, plus the rule engine's mark: every product whose labels a tick marks dirty
 * (price, promotion, stock, product) is also marked for the rules and the price feed, in the same transaction —
 * wired in the daemon, so the event applier stays as it is.
 */
export function withPricingMarks(labels: IntakeLabels): IntakeLabels {
  return {
    markDirtyManyTx: async (tx, gtins, labelIds) => {
      await labels.markDirtyManyTx(tx, gtins, labelIds);
      await markPricingTx(tx, gtins);
    },
    bindManyTx: (tx, rows) => labels.bindManyTx(tx, rows),
    byGtin: (gtin) => labels.byGtin(gtin),
  };
}
