/**
 * The next instant after which some label must show something else: a price announced ahead takes effect, a
 * promotion starts or ends (docs/decisions.md D13). The planner asks after every pass, which during intake means
 * between two group-commit ticks (D20), in the one database queue (D3) — so the question must be answered from
 * indexes, never by a scan (D43). Only prices announced ahead (valid from after they arrived, `valid_from >
 * updated_at`) can lie in the future, and only those are in the partial index `prices_ahead`; an immediate price,
 * the common case, costs intake no index write. The promotions' start and end times have their own indexes, and so do the
 * label rules' effects (rule-boundaries.ts, D49).
 */
import type { Database } from '../../persistence/database.js';
import { RULE_BOUNDARY_GTINS_SQL, RULE_BOUNDARY_SQL } from './rule-boundaries.js';

/** Verbatim `valid_from > updated_at`: sqlite uses a partial index only when the query repeats its WHERE term. */
export const NEXT_BOUNDARY_SQL = `SELECT min(at) AS at FROM (
   SELECT min(valid_from) AS at FROM prices WHERE valid_from > ?1 AND valid_from > updated_at
   UNION ALL SELECT min(start_at) FROM promotions WHERE start_at > ?1
   UNION ALL SELECT min(end_at) FROM promotions WHERE end_at > ?1
   ${RULE_BOUNDARY_SQL})`;

/** The earliest boundary after `now` (epoch ms), or null when none is known. */
export async function nextBoundary(db: Pick<Database, 'get'>, now: number): Promise<number | null> {
  const row = await db.get<{ at: number | null }>(NEXT_BOUNDARY_SQL, { 1: now } as unknown as Record<string, number>);
  return row?.at ?? null;
}

/** The products whose price changes at boundary `at`: a price valid from then, a promotion starting or ending, a rule. */
export const BOUNDARY_GTINS_SQL = `SELECT gtin FROM prices WHERE valid_from = ?1
   UNION SELECT i.gtin FROM promotion_items i JOIN promotions p ON p.id = i.promotion_id WHERE p.start_at = ?1 OR p.end_at = ?1
   ${RULE_BOUNDARY_GTINS_SQL}`;

/** The GTINs boundary `at` (epoch ms) changes, for the planner's pre-staging and its dirty marks at the boundary. */
export async function gtinsAtBoundary(db: Pick<Database, 'all'>, at: number): Promise<string[]> {
  const rows = await db.all<{ gtin: string }>(BOUNDARY_GTINS_SQL, { 1: at } as unknown as Record<string, number>);
  return rows.map((r) => r.gtin);
}
