/**
 * Turns catalogue changes into each label's desired image.
 *
 * Intake marks labels dirty (a change counter) in the transaction that applies an event; the planner renders the
 * dirty labels in chunks (it asks the label store, D17) and records the desired hash through the store's `planned`
 * transition, which clears the counter only if no newer change arrived while it rendered, so nothing is lost to a
 * race; a crash at any point leaves the labels dirty for the next start (the clear is written with the hash).
 * Price boundaries in the future (a price valid from tomorrow, a promotion's start and end) are met by a timer
 * for the next boundary instead of polling the catalogue.
 */
import type { Database, Tx } from '../../persistence/database.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { CoalescingRunner } from '../../core/coalescing-runner.js';
import { LoopSlices, type LoopTaskTiming } from '../../core/loop-tasks.js';
import { errorMessage, type LabelContent } from '#contracts';
import { labelTypeById, type LabelType } from '#protocol';
import { buildLabelContents, contentKey, type BuiltContent } from './content-builder.js';
import type { ImageStore } from './image-store.js';
import type { LabelStore } from './label-store.js';
import { changePriority } from './change-priority.js';
import { colourDigest } from './colour-digest.js';
import { gtinsAtBoundary, nextBoundary } from './next-boundary.js';
import { WaveOrder } from './wave-order.js';

/** What the edge needs of a renderer (src/domain/rendering/label-renderer.ts implements it). */
export interface Renderer {
  render(content: LabelContent, labelType: LabelType, opts?: { page?: number; template?: string }): Promise<{ planes: Uint8Array; hash: string; warnings?: string[] }>;
  templateNames(): string[];
  /**
   * Many renders in one call, one settled result per job in order (the render pool: it sends them to its workers in
   * batches, D61). Without it the planner keeps `concurrency` render() calls under way.
   */
  renderMany?(jobs: readonly { content: LabelContent; labelType: LabelType }[]): Promise<PromiseSettledResult<{ planes: Uint8Array; hash: string; warnings?: string[] }>[]>;
}

/** D126 A picture the planner has at hand: its planes and the panel type they are drawn for. */
export interface PlannedPicture {
  planes: Uint8Array;
  labelType: number;
}

/** What the planner reads of a dirty label (a snapshot: the record may change while it renders). */
interface DirtyLabel {
  id: string;
  labelType: number | null;
  gtin: string | null;
  template: string | null;
  dirty: number;
  desiredHash: string | null;
  confirmedHash: string | null;
}

const CHUNK = 256;
/**
 * Chunks planned at once. Two keep the render workers busy while the event loop builds and saves around them (D61);
 * chunks hold whole products (planChunks), so two chunks under way never read or write the same product's rows.
 */
const PIPELINE = 2;

/**
 * The dirty labels in chunks of about `size`, ordered by product then label id, a product's labels never split over
 * two chunks: what one chunk writes of a product (its §11 price history) is then what a later pass of that product
 * reads, exactly as when chunks ran one after the other (D61).
 */
export function planChunks(labels: readonly Pick<DirtyLabel, 'id' | 'gtin'>[], size: number): string[][] {
  const sorted = [...labels].sort((a, b) => {
    const ga = a.gtin ?? '\uffff';
    const gb = b.gtin ?? '\uffff';
    if (ga !== gb) return ga < gb ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  const out: string[][] = [];
  let cur: string[] = [];
  let lastGtin: string | null | undefined;
  for (const l of sorted) {
    if (cur.length >= size && (l.gtin === null || l.gtin !== lastGtin)) {
      out.push(cur);
      cur = [];
    }
    cur.push(l.id);
    lastGtin = l.gtin;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
const RENDER_RETRY_MS = 30_000;

export class LabelPlanner {
  /** One planning pass at a time; kicks during a pass coalesce into one more (D90). */
  private readonly runner: CoalescingRunner;
  private boundaryTimer: TimerHandle | null = null;
  /** Labels whose last render failed, and when to try again. */
  private readonly renderRetryAt = new Map<string, number>();
  /** D120 How long a chunk takes from its start to its labels planned (ms, moving average). */
  private chunkMs = 1_000;

  constructor(
    private readonly deps: {
      db: Database;
      labels: LabelStore;
      images: ImageStore;
      renderer: Renderer;
      clock: Clock;
      log: Logger;
      concurrency: number;
      /** How far ahead of a boundary labels get their next picture for a timed display; 0 = off. */
      prestageLeadMs?: number;
      /** D120 Take dirty labels in the order they will wake (wave-order.ts); otherwise catalogue order (D61). */
      planByWake?: boolean;
      /** Called when desired images changed, so dispatch can start. */
      onPlanned: (labelIds: string[]) => void;
      /**
       * D126 Called before onPlanned with the labels whose picture changed and the pictures at hand (planes by hash:
       * the new ones and those the labels show), so their deltas are encoded while both are in memory.
       */
      onPictures?: (labelIds: readonly string[], pictureOf: (hash: string) => PlannedPicture | undefined) => void;
      /** D143 How long a chunk's two stretches (pictures back; transaction committed) held the event loop. */
      loopTasks?: LoopTaskTiming;
    },
  ) {
    this.runner = new CoalescingRunner({
      pass: () => this.loop(),
      onError: (err) => this.deps.log.error({ evt: 'planner.failed', err: errorMessage(err) }, 'label planning failed; will retry'),
      clock: deps.clock,
      retryAfterErrorMs: 5_000,
    });
  }

  private get stopped(): boolean {
    return this.runner.stopped;
  }

  /** Plans all dirty labels soon; calls coalesce into one running pass plus at most one more. */
  kick(): void {
    this.runner.kick();
  }

  /** Resolves when no planning is under way (tests, shutdown). */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  /** Plans nothing more; resolves when the pass under way has ended (it stops after its current chunk). */
  stop(): Promise<void> {
    if (this.boundaryTimer) this.deps.clock.clearTimeout(this.boundaryTimer);
    return this.runner.stop();
  }

  private async loop(): Promise<void> {
    // One pass walks every label that was dirty when it started once, in chunks, so labels that keep failing to
    // render cannot hold back the others. PIPELINE chunks are under way at once (D61): while the render workers
    // draw one chunk, the event loop builds the next one's contents and saves the last one's pictures.
    let failed = 0;
    const underWay: Promise<{ failed: number }>[] = [];
    for (const chunk of this.chunks()) {
      if (this.stopped) break;
      if (underWay.length >= PIPELINE) failed += (await underWay.shift()!).failed;
      const startedAt = this.deps.clock.now();
      const p = this.planLabels(chunk);
      p.catch(() => undefined); // awaited below; a chunk failing while an earlier one is awaited is not unhandled
      void p.then(
        () => (this.chunkMs += 0.2 * (this.deps.clock.now() - startedAt - this.chunkMs)),
        () => undefined,
      );
      underWay.push(p);
    }
    for (const p of underWay.splice(0)) failed += (await p).failed;
    // One read of the next boundary serves both (D131): during intake a pass follows almost every tick, and each read
    // holds the one database queue between two ticks. A boundary that passes while pre-staging renders is then still
    // marked (its timer fires at once) instead of being skipped by a second read made after it.
    const now = this.deps.clock.now();
    const at = await nextBoundary(this.deps.db, now);
    if (!this.stopped) failed += await this.prestage({ at, now });
    this.scheduleNextBoundary(at);
    // Labels whose render failed stay dirty and are skipped until their retry time.
    if (failed > 0 && !this.stopped) this.deps.clock.setTimeout(() => this.kick(), RENDER_RETRY_MS);
  }

  /**
   * The pass's chunks: in catalogue order (D61), or following the wake wave (D120) — each chunk, when it is taken,
   * holds the labels that wake soonest after its pictures can be on the AP (the chunk's planning time, measured,
   * plus a second for the dispatch pass and the transfer to the AP).
   */
  private *chunks(): Generator<string[]> {
    const dirty = this.deps.labels.dirty();
    if (this.deps.planByWake !== true) {
      yield* planChunks(dirty, CHUNK);
      return;
    }
    const wave = new WaveOrder(dirty, this.deps.clock.now(), CHUNK);
    let chunk: string[] | null;
    while ((chunk = wave.next(this.deps.clock.now(), this.chunkMs + 1_000)) !== null) yield chunk;
  }

  /** Plans the given labels (those still dirty); returns how many it looked at and how many failed to render. */
  async planLabels(labelIds: string[]): Promise<{ seen: number; failed: number }> {
    const { db, clock, labels, images } = this.deps;
    const now = clock.now();
    const all: DirtyLabel[] = [];
    for (const id of labelIds) {
      const l = labels.get(id);
      if (l && l.dirty > 0) all.push({ id, labelType: l.labelType, gtin: l.gtin, template: l.template, dirty: l.dirty, desiredHash: l.desiredHash, confirmedHash: l.confirmedHash });
    }
    const rows = all.filter((r) => (this.renderRetryAt.get(r.id) ?? 0) <= now);
    if (rows.length === 0) return { seen: all.length, failed: all.length - rows.length };

    // Build contents in one read transaction so the chunk sees one consistent catalogue: a few set-based reads for
    // the whole chunk, not a handful per product (D60).
    const wanted = rows.flatMap((r) => (r.gtin ? [{ gtin: r.gtin, template: r.template }] : []));
    const contents = await db.transaction((tx) => buildLabelContents(tx, wanted, now));

    // Render outside any transaction (CPU work), bounded.
    const results = new Map<string, { hash: string | null; planes?: Uint8Array; content?: LabelContent; type?: number; colour?: number; error?: string }>();
    const jobs: { row: DirtyLabel; content: LabelContent; labelType: LabelType }[] = [];
    for (const r of rows) {
      const built = r.gtin ? contents.get(contentKey(r.gtin, r.template)) : undefined;
      const type = r.labelType !== null ? labelTypeById(r.labelType) : undefined;
      if (!built || !type) results.set(r.id, { hash: null });
      else jobs.push({ row: r, content: built.content, labelType: type });
    }
    const settled = await this.renderAll(jobs);
    // D143 What follows until the transaction runs in slices of the event loop (~60 ms a chunk in one piece before).
    const slices = new LoopSlices(this.deps.loopTasks, 'plan_rendered');
    for (let i = 0; i < jobs.length; i++) {
      if (slices.due()) await slices.next();
      const j = jobs[i]!;
      const s = settled[i]!;
      const r = j.row;
      if (s.status === 'rejected') {
        results.set(r.id, { hash: r.desiredHash, error: errorMessage(s.reason) });
        continue;
      }
      const img = s.value;
      // D107 Only a new picture needs its colour digest (the dispatcher's guess of its panel time).
      const colour = img.hash !== r.desiredHash ? colourDigest(img.planes, j.labelType) : undefined;
      results.set(r.id, { hash: img.hash, planes: img.planes, content: j.content, type: j.labelType.id, ...(colour !== undefined ? { colour } : {}) });
      if (img.warnings && img.warnings.length > 0) {
        // Content was shortened or dropped to stay legible (D47): one warn line per label render.
        this.deps.log.warn({ evt: 'render.warnings', labelId: r.id, gtin: r.gtin, warnings: img.warnings }, 'label rendered with warnings');
      }
    }

    // What each label shows now, for its change priority: one lookup for the chunk, misses read together (D86).
    const shownHashes: string[] = [];
    for (const r of rows) {
      const res = results.get(r.id)!;
      if (!res.error && res.hash !== r.desiredHash && res.content && r.confirmedHash) shownHashes.push(r.confirmedHash);
    }
    const imgs: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }[] = [];
    for (const res of results.values()) {
      if (!res.error && res.planes && res.content && res.type !== undefined && res.hash) imgs.push({ hash: res.hash, labelType: res.type, planes: res.planes, content: res.content });
    }
    // D127 Compressed before the transaction: the one queue is not held while the event loop runs zlib.
    const packed = await images.pack(imgs, slices);
    slices.end();
    // The images (and the till's price history) are durable before any label refers to them. The shown pictures are
    // read in the same transaction (D127: one turn of the queue), with their planes when the dispatcher takes them
    // (D126).
    const { shown, shownPictures } = await db.transaction(async (tx) => {
      await recordPriceHistory(tx, contents);
      await images.savePacked(tx, packed, now);
      if (shownHashes.length === 0) return { shown: new Map<string, LabelContent>(), shownPictures: null };
      if (!this.deps.onPictures) return { shown: await images.contents(shownHashes, tx), shownPictures: null };
      const pictures = await images.pictures(shownHashes, tx);
      return { shown: new Map([...pictures].map(([h, p]) => [h, p.content])), shownPictures: pictures };
    });

    // D147 The labels' transitions run in slices too (a chunk's stretch here was 12 ms on average in the loop's longest
    // gaps): a label planned a turn later is dispatched a turn later; seenDirty keeps a change made meanwhile (D17).
    const applying = new LoopSlices(this.deps.loopTasks, 'plan_committed');
    const changed: string[] = [];
    let failed = 0;
    for (const r of rows) {
      if (applying.due()) await applying.next();
      const res = results.get(r.id)!;
      if (res.error) {
        failed++;
        this.renderRetryAt.set(r.id, now + RENDER_RETRY_MS);
        this.deps.log.error({ evt: 'render.failed', labelId: r.id, err: res.error }, 'rendering failed; will retry');
        continue; // stays dirty
      }
      this.renderRetryAt.delete(r.id);
      let priority = 2;
      if (res.hash !== r.desiredHash && res.content) {
        priority = changePriority(r.confirmedHash ? shown.get(r.confirmedHash) : undefined, res.content);
      }
      if (labels.planned(r.id, { hash: res.hash, priority, now, seenDirty: r.dirty, colour: res.colour ?? null })) changed.push(r.id);
    }
    if (changed.length > 0 && this.deps.onPictures) {
      const fresh = new Map<string, PlannedPicture>();
      for (const res of results.values()) if (res.hash && res.planes && res.type !== undefined) fresh.set(res.hash, { planes: res.planes, labelType: res.type });
      this.deps.onPictures(changed, (h) => fresh.get(h) ?? shownPictures?.get(h));
    }
    if (changed.length > 0) {
      this.deps.log.debug({ evt: 'planner.planned', labels: changed.length }, 'desired images changed');
      this.deps.onPlanned(changed);
    }
    applying.end();
    return { seen: all.length, failed: failed + all.length - rows.length };
  }

  /**
   * Renders a chunk: through renderMany when the renderer has it (the pool batches the whole chunk into a few messages
   * per worker instead of `concurrency` round trips at a time, D61), else `concurrency` render() calls at a time.
   */
  private async renderAll(jobs: readonly { content: LabelContent; labelType: LabelType }[]): Promise<PromiseSettledResult<{ planes: Uint8Array; hash: string; warnings?: string[] }>[]> {
    const { renderer } = this.deps;
    if (renderer.renderMany) return renderer.renderMany(jobs);
    const out: PromiseSettledResult<{ planes: Uint8Array; hash: string; warnings?: string[] }>[] = new Array(jobs.length);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        const j = jobs[i]!;
        try {
          out[i] = { status: 'fulfilled', value: await renderer.render(j.content, j.labelType) };
        } catch (err) {
          out[i] = { status: 'rejected', reason: err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency, jobs.length) }, worker));
    return out;
  }

  /** Arms one timer for the next price or promotion boundary `at` (nextBoundary); at it, marks the affected labels dirty. */
  private scheduleNextBoundary(at: number | null): void {
    const { clock } = this.deps;
    const now = clock.now();
    if (this.boundaryTimer) this.deps.clock.clearTimeout(this.boundaryTimer);
    this.boundaryTimer = null;
    if (at === null || this.stopped) return;
    const lead = this.deps.prestageLeadMs ?? 0;
    if (lead > 0 && at - lead > now) {
      // Wake when the boundary enters the pre-staging window; the pass then pre-renders and re-arms for `at`.
      this.boundaryTimer = clock.setTimeout(() => this.kick(), Math.min(at - lead - now, 2 ** 31 - 1));
      return;
    }
    // setTimeout cannot wait longer than ~24.8 days; re-check then.
    const delay = Math.max(0, Math.min(at - now, 2 ** 31 - 1));
    this.boundaryTimer = clock.setTimeout(() => {
      void this.markBoundary(at).then(() => this.kick());
    }, delay);
  }

  /**
   * Pre-renders what the labels affected by the next boundary must show from then on (protocol §6.5 timed
   * display), so the dispatcher can stage it ahead and the shelf switches at the boundary minute. Each label is
   * rendered once per boundary (next_at marks it). `at`: the next boundary as the pass read it at `now`.
   * Returns how many renders failed.
   */
  private async prestage({ at, now }: { at: number | null; now: number }): Promise<number> {
    const lead = this.deps.prestageLeadMs ?? 0;
    if (lead <= 0) return 0;
    const { db } = this.deps;
    if (at === null || at - now > lead) return 0;
    let failed = 0;
    // The products the boundary changes (catalogue), then their labels (the store): each rendered once per boundary.
    const gtins = await gtinsAtBoundary(db, at);
    const todo: string[] = [];
    for (const gtin of gtins) {
      for (const l of this.deps.labels.byGtin(gtin)) if (l.dirty === 0 && l.labelType !== null && l.nextAt !== at) todo.push(l.id);
    }
    for (let i = 0; i < todo.length && !this.stopped; i += CHUNK) {
      const rows: { id: string; labelType: number; gtin: string; template: string | null; desiredHash: string | null }[] = [];
      for (const id of todo.slice(i, i + CHUNK)) {
        const l = this.deps.labels.get(id);
        if (l && l.dirty === 0 && l.labelType !== null && l.gtin !== null && l.nextAt !== at) rows.push({ id, labelType: l.labelType, gtin: l.gtin, template: l.template, desiredHash: l.desiredHash });
      }
      if (rows.length === 0) continue;
      const built = await db.transaction((tx) => buildLabelContents(tx, rows, at));
      // In the chunk's order, as each label's render settles.
      const results: { labelId: string; hash: string | null }[] = rows.map((r) => ({ labelId: r.id, hash: null }));
      const rendered: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }[] = [];
      const jobs: { index: number; row: (typeof rows)[number]; content: LabelContent; labelType: LabelType }[] = [];
      rows.forEach((r, index) => {
        const b = built.get(contentKey(r.gtin, r.template));
        const type = labelTypeById(r.labelType);
        if (b && type) jobs.push({ index, row: r, content: b.content, labelType: type });
      });
      const settled = await this.renderAll(jobs);
      jobs.forEach(({ index, row: r, content, labelType }, k) => {
        const s = settled[k]!;
        if (s.status === 'fulfilled') {
          rendered.push({ hash: s.value.hash, labelType: labelType.id, planes: s.value.planes, content });
          results[index]!.hash = s.value.hash === r.desiredHash ? null : s.value.hash;
        } else {
          failed++;
          this.deps.log.error({ evt: 'render.failed', labelId: r.id, err: errorMessage(s.reason), phase: 'prestage' }, 'pre-rendering failed');
        }
      });
      await db.transaction((tx) => this.deps.images.saveMany(tx, rendered, now));
      // Only labels that did not become dirty meanwhile (the store checks): a dirty label is planned anew first.
      for (const r of results) this.deps.labels.plannedNext(r.labelId, r.hash, at);
      this.deps.log.debug({ evt: 'planner.prestaged', at, labels: rows.length }, 'next pictures rendered ahead of a boundary');
      this.deps.onPlanned(results.filter((r) => r.hash).map((r) => r.labelId));
    }
    return failed;
  }

  private async markBoundary(at: number): Promise<void> {
    // Durable like an event's dirty mark: a crash after the boundary must not forget to re-plan (the timer is gone).
    await this.deps.db.transaction(async (tx) => {
      for (const gtin of await gtinsAtBoundary(tx, at)) await this.deps.labels.markDirtyTx(tx, gtin);
    });
  }
}

/**
 * The till's price history (PAngV §11 looks for the lowest price in force) records only changes: a product's effective
 * price is written when it differs from the one in force at its `effectiveFrom`. One read and one insert for a whole
 * chunk (D60); a product planned under two templates has one content per template but one price.
 */
async function recordPriceHistory(tx: Tx, contents: ReadonlyMap<string, BuiltContent | undefined>): Promise<void> {
  const byGtin = new Map<string, BuiltContent>();
  for (const built of contents.values()) if (built && !byGtin.has(built.content.gtin)) byGtin.set(built.content.gtin, built);
  if (byGtin.size === 0) return;
  const last = await tx.all<{ gtin: string; cents: number | null }>(
    `SELECT value->>0 AS gtin,
       (SELECT cents FROM price_history h WHERE h.gtin = value->>0 AND h.effective_from <= value->>1 ORDER BY h.effective_from DESC LIMIT 1) AS cents
     FROM json_each(?)`,
    [JSON.stringify([...byGtin].map(([g, b]) => [g, b.effectiveFrom]))],
  );
  const lastCents = new Map(last.map((r) => [r.gtin, r.cents]));
  const changed = [...byGtin].filter(([g, b]) => (lastCents.get(g) ?? undefined) !== b.content.priceCents);
  if (changed.length === 0) return;
  await tx.run(
    'INSERT OR IGNORE INTO price_history (gtin, effective_from, cents, rule_id) SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?) WHERE true',
    [JSON.stringify(changed.map(([g, b]) => [g, b.effectiveFrom, b.content.priceCents, b.ruleId ?? null]))],
  );
}
