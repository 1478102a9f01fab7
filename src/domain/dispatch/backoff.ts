/**
 * Exponential backoff with ±20 % jitter, so that labels that failed together (an AP outage) do not retry together.
 */
export function backoffMs(attempt: number, cfg: { retryBaseMs: number; retryMaxMs: number }, random: () => number): number {
  const exp = Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}
