/**
 * A typed in-process event bus: features subscribe to what they need (zigbee2mqtt style) instead of calling each
 * other. Handlers run synchronously in registration order; a throwing handler is logged, never propagated,
 * so one feature cannot stop another.
 */
import type { Logger } from './logger.js';

export class TypedEventBus<Events extends Record<string, unknown>> {
  private handlers = new Map<keyof Events, Set<(payload: never) => void>>();
  constructor(private readonly log?: Logger) {}

  on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as (payload: never) => void);
    return () => set.delete(handler as (payload: never) => void);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const h of [...set]) {
      try {
        (h as (p: Events[K]) => void)(payload);
      } catch (err) {
        this.log?.error({ event: String(event), err }, 'event handler failed');
      }
    }
  }
}
