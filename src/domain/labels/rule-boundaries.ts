/**
 * Rule effects start and end on known minutes like promotions do, so the planner treats them as boundaries: the
 * labels get the next picture ahead with a timed display (D13) and switch at the minute the till's price feed names.
 * SQL fragments for the planner's boundary queries (`?1` is the instant there).
 */
export const RULE_BOUNDARY_SQL = `UNION ALL SELECT min(start_at) FROM rule_effects WHERE status = 'active' AND start_at > ?1
         UNION ALL SELECT min(end_at) FROM rule_effects WHERE status = 'active' AND end_at > ?1`;

export const RULE_BOUNDARY_GTINS_SQL = `UNION SELECT gtin FROM rule_effects WHERE status = 'active' AND (start_at = ?1 OR end_at = ?1)`;
