/**
 * Turns catalogue changes into each label's desired image.
 *
 * Intake marks labels dirty (a change counter) in the transaction that applies an event; the planner renders the
 * dirty labels in chunks and records the desired hash. It clears the counter only if no newer change arrived while
 * it rendered, so nothing is lost to a race, and a crash at any point leaves the labels dirty for the next start.
 * Price boundaries in the future (a price valid from tomorrow, a promotion's start and end) are met by a timer
 * for the next boundary instead of polling the catalogue.
 */
import type { Database } from '../../persistence/database.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';
import { labelTypeById, type LabelType } from '../../../firmware-protocol/src/label-types.js';
import type { LabelContent } from '../rendering/label-content.js';
import { buildLabelContent, type BuiltContent } from './content-builder.js';
import { saveImage, loadContent } from './image-store.js';
import { changePriority } from './change-priority.js';

export interface Renderer {
  render(content: LabelContent, labelType: LabelType, opts?: { page?: number }): Promise<{ planes: Uint8Array; hash: string }>;
}

interface DirtyRow {
  label_id: string;
  label_type: number | null;
  gtin: string | null;
  template: string | null;
  dirty: number;
  desired_hash: string | null;
  confirmed_hash: string | null;
}

const CHUNK = 256;
const RENDER_RETRY_MS = 30_000;

export class LabelPlanner {
  private running: Promise<void> | null = null;
  private again = false;
  private boundaryTimer: TimerHandle | null = null;
  private stopped = false;
  /** Labels whose last render failed, and when to try again. */
  private readonly renderRetryAt = new Map<string, number>();

  constructor(
    private readonly deps: {
      db: Database;
      renderer: Renderer;
      clock: Clock;
      log: Logger;
      concurrency: number;
      /** Called when desired images changed, so dispatch can start. */
      onPlanned: (labelIds: string[]) => void;
    },
  ) {}

  /** Plans all dirty labels soon; calls coalesce into one running pass plus at most one more. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves when no planning is under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.boundaryTimer) this.deps.clock.clearTimeout(this.boundaryTimer);
  }

  private async loop(): Promise<void> {
    try {
      // One pass walks every dirty label once, by a cursor over label ids, so labels that keep failing to render
      // cannot hold back the others.
      let cursor = '';
      let failed = 0;
      while (!this.stopped) {
        const r = await this.planChunk(cursor);
        failed += r.failed;
        if (r.seen < CHUNK || r.last === null) break;
        cursor = r.last;
      }
      await this.scheduleNextBoundary();
      // Labels whose render failed stay dirty and are skipped until their retry time.
      if (failed > 0 && !this.stopped) this.deps.clock.setTimeout(() => this.kick(), RENDER_RETRY_MS);
    } catch (err) {
      this.deps.log.error({ evt: 'planner.failed', err: errorMessage(err) }, 'label planning failed; will retry');
      this.boundaryTimer = this.deps.clock.setTimeout(() => this.kick(), 5_000);
    }
  }

  /** Plans up to CHUNK dirty labels; returns how many it looked at and how many failed to render. */
  async planChunk(after = ''): Promise<{ seen: number; failed: number; last: string | null }> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const all = await db.all<DirtyRow>(
      'SELECT label_id, label_type, gtin, template, dirty, desired_hash, confirmed_hash FROM labels WHERE dirty > 0 AND label_id > ? ORDER BY label_id LIMIT ?',
      [after, CHUNK],
    );
    const last = all.at(-1)?.label_id ?? null;
    const rows = all.filter((r) => (this.renderRetryAt.get(r.label_id) ?? 0) <= now);
    if (rows.length === 0) return { seen: all.length, failed: all.length - rows.length, last };

    // Build contents in one read transaction so the chunk sees one consistent catalogue.
    const contents = new Map<string, BuiltContent | undefined>();
    await db.transaction(async (tx) => {
      for (const r of rows) {
        if (!r.gtin || contents.has(`${r.gtin}|${r.template ?? ''}`)) continue;
        contents.set(`${r.gtin}|${r.template ?? ''}`, await buildLabelContent(tx, r.gtin, now, r.template));
      }
    });

    // Render outside any transaction (CPU work), bounded.
    const results = new Map<string, { hash: string | null; planes?: Uint8Array; content?: LabelContent; type?: number; error?: string }>();
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const r = rows[next++]!;
        const built = r.gtin ? contents.get(`${r.gtin}|${r.template ?? ''}`) : undefined;
        const type = r.label_type !== null ? labelTypeById(r.label_type) : undefined;
        if (!built || !type) {
          results.set(r.label_id, { hash: null });
          continue;
        }
        try {
          const img = await this.deps.renderer.render(built.content, type);
          results.set(r.label_id, { hash: img.hash, planes: img.planes, content: built.content, type: type.id });
        } catch (err) {
          results.set(r.label_id, { hash: r.desired_hash, error: errorMessage(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency, rows.length) }, worker));

    const changed: string[] = [];
    let failed = 0;
    await db.transaction(async (tx) => {
      for (const [key, built] of contents) {
        if (!built) continue;
        const gtin = key.split('|')[0]!;
        // The till price history only records changes (PAngV §11 looks for the lowest price in force).
        const last = await tx.get<{ cents: number }>(
          'SELECT cents FROM price_history WHERE gtin = ? AND effective_from <= ? ORDER BY effective_from DESC LIMIT 1',
          [gtin, built.effectiveFrom],
        );
        if (last?.cents !== built.content.priceCents) {
          await tx.run('INSERT OR IGNORE INTO price_history (gtin, effective_from, cents) VALUES (?, ?, ?)', [gtin, built.effectiveFrom, built.content.priceCents]);
        }
      }
      for (const r of rows) {
        const res = results.get(r.label_id)!;
        if (res.error) {
          failed++;
          this.renderRetryAt.set(r.label_id, now + RENDER_RETRY_MS);
          this.deps.log.error({ evt: 'render.failed', labelId: r.label_id, err: res.error }, 'rendering failed; will retry');
          continue; // stays dirty
        }
        this.renderRetryAt.delete(r.label_id);
        if (res.planes && res.content && res.type !== undefined && res.hash) {
          await saveImage(tx, { hash: res.hash, labelType: res.type, planes: res.planes, content: res.content }, now);
        }
        if (res.hash !== r.desired_hash) {
          const confirmed = r.confirmed_hash ? await loadContent(tx, r.confirmed_hash) : undefined;
          const priority = res.content ? changePriority(confirmed, res.content) : 2;
          await tx.run(
            `UPDATE labels SET desired_hash = ?, desired_since = ?, priority = ?, attempts = 0, next_attempt_at = 0, force_full = 0,
               consistent_since = CASE WHEN confirmed_hash IS ? THEN consistent_since ELSE NULL END
             WHERE label_id = ?`,
            [res.hash, now, priority, res.hash, r.label_id],
          );
          changed.push(r.label_id);
        }
        // Clear the change counter only if nothing newer arrived meanwhile (see the header comment).
        await tx.run('UPDATE labels SET dirty = CASE WHEN dirty = ? THEN 0 ELSE dirty END WHERE label_id = ?', [r.dirty, r.label_id]);
      }
    });
    if (changed.length > 0) {
      this.deps.log.debug({ evt: 'planner.planned', labels: changed.length }, 'desired images changed');
      this.deps.onPlanned(changed);
    }
    return { seen: all.length, failed: failed + all.length - rows.length, last };
  }

  /** Arms one timer for the next future price or promotion boundary; at it, marks the affected labels dirty. */
  private async scheduleNextBoundary(): Promise<void> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const row = await db.get<{ at: number | null }>(
      `SELECT min(at) AS at FROM (
         SELECT min(valid_from) AS at FROM prices WHERE valid_from > ?1
         UNION ALL SELECT min(start_at) FROM promotions WHERE start_at > ?1
         UNION ALL SELECT min(end_at) FROM promotions WHERE end_at > ?1)`,
      { 1: now } as unknown as Record<string, number>,
    );
    if (this.boundaryTimer) this.deps.clock.clearTimeout(this.boundaryTimer);
    this.boundaryTimer = null;
    if (row?.at === null || row?.at === undefined || this.stopped) return;
    const at = row.at;
    // setTimeout cannot wait longer than ~24.8 days; re-check then.
    const delay = Math.min(at - now, 2 ** 31 - 1);
    this.boundaryTimer = clock.setTimeout(() => {
      void this.markBoundary(at).then(() => this.kick());
    }, delay);
  }

  private async markBoundary(at: number): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      await tx.run(
        `UPDATE labels SET dirty = dirty + 1 WHERE gtin IN (
           SELECT gtin FROM prices WHERE valid_from = ?1
           UNION SELECT i.gtin FROM promotion_items i JOIN promotions p ON p.id = i.promotion_id WHERE p.start_at = ?1 OR p.end_at = ?1)`,
        { 1: at } as unknown as Record<string, number>,
      );
    });
  }
}
