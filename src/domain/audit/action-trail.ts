/**
 * The operators' audit trail: every action a person takes on the store through the dashboard (flash a label, send
 * it again, bind or unbind it, light up an order, log in), who took it, with which role, and what came of it —
 * refused attempts (a viewer's action, a wrong password) included, so the trail answers "who touched label X".
 */
import { z } from 'zod';
import type { Database } from '../../persistence/database.js';

export const ActionNameSchema = z.enum(['login', 'logout', 'flash', 'resend', 'bind', 'unbind', 'pick']);
export type ActionName = z.infer<typeof ActionNameSchema>;

export const OperatorActionSchema = z.object({
  seq: z.number().int(),
  at: z.number(),
  actor: z.string(),
  role: z.string(),
  action: ActionNameSchema,
  /** The label id, order id or user the action was about. */
  target: z.string().nullable(),
  /** What was asked (JSON text), e.g. the GTIN of a binding. */
  detail: z.string().nullable(),
  /** The operation's outcome (`sent`, `applied`, `queued`, …) or `forbidden` / `denied` for a refused attempt. */
  outcome: z.string(),
});
export type OperatorAction = z.infer<typeof OperatorActionSchema>;

export async function recordAction(db: Database, a: Omit<OperatorAction, 'seq' | 'detail'> & { detail?: unknown }): Promise<void> {
  await db.run('INSERT INTO operator_actions (at, actor, role, action, target, detail, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    a.at,
    a.actor,
    a.role,
    a.action,
    a.target,
    a.detail === undefined ? null : JSON.stringify(a.detail),
    a.outcome,
  ]);
}

export async function listActions(db: Database, filter: { target?: string; limit: number }): Promise<OperatorAction[]> {
  const rows = await db.all<OperatorAction>(
    `SELECT seq, at, actor, role, action, target, detail, outcome FROM operator_actions ${filter.target ? 'WHERE target = ?' : ''} ORDER BY seq DESC LIMIT ?`,
    filter.target ? [filter.target, filter.limit] : [filter.limit],
  );
  return rows.map((r) => OperatorActionSchema.parse(r));
}
