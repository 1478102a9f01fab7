/** The message of a caught value, for the simulator's own errors and reports (it imports nothing of the edge, D77). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
