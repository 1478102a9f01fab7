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

/** What the edge needs of a renderer (src/domain/rendering/label-renderer.ts implements it). */
export interface Renderer {
  render(content: LabelContent, labelType: LabelType, opts?: { page?: number; template?: string }): Promise<{ planes: Uint8Array; hash: string }>;
  templateNames(): string[];
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
      /** How far ahead of a boundary labels get their next picture for a timed display; 0 = off. */
      prestageLeadMs?: number;
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
      if (!this.stopped) failed += await this.prestage();
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
        // What the label must show next may have changed too: forget the pre-rendered next picture (prestage renders
        // it again), and withdraw a timed image the label holds unless it is exactly what it must show now.
        await tx.run(
          `UPDATE labels SET
             drop_timed = CASE WHEN transfer_display_at IS NOT NULL AND transfer_display_at > ?1 AND transfer_hash IS NOT ?2 THEN 1 ELSE drop_timed END,
             transfer_id = CASE WHEN transfer_display_at IS NOT NULL AND transfer_hash IS NOT ?2 THEN NULL ELSE transfer_id END,
             transfer_ap = CASE WHEN transfer_display_at IS NOT NULL AND transfer_hash IS NOT ?2 THEN NULL ELSE transfer_ap END,
             transfer_state = CASE WHEN transfer_display_at IS NOT NULL AND transfer_hash IS NOT ?2 THEN NULL ELSE transfer_state END,
             transfer_hash = CASE WHEN transfer_display_at IS NOT NULL AND transfer_hash IS NOT ?2 THEN NULL ELSE transfer_hash END,
             transfer_display_at = CASE WHEN transfer_hash IS NOT ?2 THEN NULL ELSE transfer_display_at END,
             next_hash = NULL, next_at = NULL
           WHERE label_id = ?3 AND (next_at IS NOT NULL OR transfer_display_at IS NOT NULL)`,
          { 1: now, 2: res.hash, 3: r.label_id } as unknown as Record<string, string | number | null>,
        );
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
    const lead = this.deps.prestageLeadMs ?? 0;
    if (lead > 0 && at - lead > now) {
      // Wake when the boundary enters the pre-staging window; the pass then pre-renders and re-arms for `at`.
      this.boundaryTimer = clock.setTimeout(() => this.kick(), Math.min(at - lead - now, 2 ** 31 - 1));
      return;
    }
    // setTimeout cannot wait longer than ~24.8 days; re-check then.
    const delay = Math.min(at - now, 2 ** 31 - 1);
    this.boundaryTimer = clock.setTimeout(() => {
      void this.markBoundary(at).then(() => this.kick());
    }, delay);
  }

  /**
   * Pre-renders what the labels affected by the next boundary must show from then on (protocol §6.5 timed
   * display), so the dispatcher can stage it ahead and the shelf switches at the boundary minute. Each label is
   * rendered once per boundary (next_at marks it). Returns how many renders failed.
   */
  async prestage(): Promise<number> {
    const lead = this.deps.prestageLeadMs ?? 0;
    if (lead <= 0) return 0;
    const { db, clock } = this.deps;
    const now = clock.now();
    const next = await db.get<{ at: number | null }>(
      `SELECT min(at) AS at FROM (
         SELECT min(valid_from) AS at FROM prices WHERE valid_from > ?1
         UNION ALL SELECT min(start_at) FROM promotions WHERE start_at > ?1
         UNION ALL SELECT min(end_at) FROM promotions WHERE end_at > ?1)`,
      { 1: now } as unknown as Record<string, number>,
    );
    const at = next?.at;
    if (at === null || at === undefined || at - now > lead) return 0;
    let failed = 0;
    for (;;) {
      const rows = await db.all<{ label_id: string; label_type: number; gtin: string; template: string | null; desired_hash: string | null }>(
        `SELECT label_id, label_type, gtin, template, desired_hash FROM labels
         WHERE dirty = 0 AND label_type IS NOT NULL AND next_at IS NOT ?1 AND gtin IN (
           SELECT gtin FROM prices WHERE valid_from = ?1
           UNION SELECT i.gtin FROM promotion_items i JOIN promotions p ON p.id = i.promotion_id WHERE p.start_at = ?1 OR p.end_at = ?1)
         LIMIT ?2`,
        { 1: at, 2: CHUNK } as unknown as Record<string, number>,
      );
      if (rows.length === 0 || this.stopped) break;
      const built = new Map<string, BuiltContent | undefined>();
      await db.transaction(async (tx) => {
        for (const r of rows) {
          const key = `${r.gtin}|${r.template ?? ''}`;
          if (!built.has(key)) built.set(key, await buildLabelContent(tx, r.gtin, at, r.template));
        }
      });
      const results: { labelId: string; hash: string | null }[] = [];
      const images: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }[] = [];
      for (const r of rows) {
        const b = built.get(`${r.gtin}|${r.template ?? ''}`);
        const type = labelTypeById(r.label_type);
        if (!b || !type) {
          results.push({ labelId: r.label_id, hash: null });
          continue;
        }
        try {
          const img = await this.deps.renderer.render(b.content, type);
          images.push({ hash: img.hash, labelType: type.id, planes: img.planes, content: b.content });
          results.push({ labelId: r.label_id, hash: img.hash === r.desired_hash ? null : img.hash });
        } catch (err) {
          failed++;
          results.push({ labelId: r.label_id, hash: null });
          this.deps.log.error({ evt: 'render.failed', labelId: r.label_id, err: errorMessage(err), phase: 'prestage' }, 'pre-rendering failed');
        }
      }
      await db.transaction(async (tx) => {
        for (const img of images) await saveImage(tx, img, now);
        // Only labels that did not become dirty meanwhile: a dirty label is planned anew first.
        for (const r of results) await tx.run('UPDATE labels SET next_hash = ?, next_at = ? WHERE label_id = ? AND dirty = 0', [r.hash, at, r.labelId]);
      });
      this.deps.log.debug({ evt: 'planner.prestaged', at, labels: rows.length }, 'next pictures rendered ahead of a boundary');
      this.deps.onPlanned(results.filter((r) => r.hash).map((r) => r.labelId));
      if (rows.length < CHUNK) break;
    }
    return failed;
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
