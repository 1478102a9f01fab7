/**
 * What each timeline step does. Faults act on the simulator; price steps send events to the edge over MQTT as a
 * POS (one price event each, spread over time) or HQ (batch events) would. A step with a duration leaves
 * background work (bring the AP back, restore the radio) that the runner waits for before the end.
 */
import type { SimClock } from './sim-clock.js';
import { randomInt, type Random } from './rng.js';
import { changedPrice, priceEvent, toBatches, type VersionSource } from './scenario-events.js';
import type { EventPublisher } from './scenario-publisher.js';
import type { Step } from './scenario-schema.js';
import type { StoreFile } from './store-file.js';
import type { StoreSimulator } from './store-simulator.js';
import type { EdgeEvent } from '#contracts';

/** Prices as this run knows them: what the edge had at the start, then what the run sent. */
export class PriceBook {
  private readonly current = new Map<string, number>();
  /** Prices this run sent (the edge's desired pictures must carry them). */
  readonly sent = new Map<string, number>();
  changes = 0;

  constructor(store: StoreFile) {
    for (const p of store.products) this.current.set(p.gtin, p.regularPriceCents);
  }

  /** What the edge showed for the product before this run changed it (a second run against one edge starts from there). */
  learn(gtin: string, cents: number): void {
    if (!this.sent.has(gtin)) this.current.set(gtin, cents);
  }

  price(gtin: string): number {
    return this.current.get(gtin)!;
  }

  set(gtin: string, cents: number): void {
    this.current.set(gtin, cents);
    this.sent.set(gtin, cents);
    this.changes++;
  }
}

export interface StepContext {
  sim: StoreSimulator;
  clock: SimClock;
  store: StoreFile;
  random: Random;
  prices: PriceBook;
  publisher: EventPublisher;
  versions: VersionSource;
  /** Unique per run: event ids of this run start with it. */
  runId: string;
  source: string;
  /** Radio impairments in force (the simulator does not expose them), for restoring after a duration. */
  radio: { frameLoss: number; corruption: number; duplication: number };
  /** Work a step leaves behind (ends within simulated time); the runner waits for all of it before the end. */
  background(what: string, work: Promise<unknown>): void;
  /** An expect-converged checkpoint: resolves once the store converged, or when withinMs passed without it. */
  checkpoint(withinMs: number): Promise<{ converged: boolean; afterS: number | null }>;
}

export interface StepOutcome {
  summary: string;
  /** Labels or products the step picked, for the report. */
  targets?: string[];
}

/** `n` distinct items, uniformly (partial Fisher–Yates on a copy). */
export function sample<T>(random: Random, items: readonly T[], n: number): T[] {
  const a = items.slice();
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(random, a.length - i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

function countOf(sel: { count?: number | undefined; fraction?: number | undefined }, total: number): number {
  if (sel.count !== undefined) return sel.count;
  return Math.max(1, Math.round(total * sel.fraction!));
}

function pickLabels(ctx: StepContext, sel: { labelIds?: string[] | undefined; count?: number | undefined; fraction?: number | undefined }): string[] {
  if (sel.labelIds !== undefined) return sel.labelIds;
  const ids = ctx.store.labels.map((l) => l.labelId);
  return sample(ctx.random, ids, countOf(sel, ids.length));
}

/** Sends new prices for `gtins`: one batch (or a single event), or one event each spread over `spreadMs`. */
async function sendPrices(ctx: StepContext, gtins: readonly string[], percent: number, spreadMs: number | undefined, tag: string): Promise<void> {
  const next = (gtin: string) => ({ gtin, cents: changedPrice(ctx.prices.price(gtin), percent) });
  if (spreadMs !== undefined) {
    const gap = spreadMs / gtins.length;
    for (const [i, gtin] of gtins.entries()) {
      if (i > 0) await ctx.clock.sleep(gap);
      const p = next(gtin);
      await ctx.publisher.send(priceEvent(p.gtin, p.cents, { id: `${ctx.runId}-${tag}-${p.gtin}`, source: ctx.source, version: ctx.versions.next() }));
      ctx.prices.set(p.gtin, p.cents);
    }
    return;
  }
  const changes = gtins.map(next);
  const version = ctx.versions.next();
  const events = changes.map((p) => priceEvent(p.gtin, p.cents, { id: `${ctx.runId}-${tag}-${p.gtin}`, source: ctx.source, version }));
  if (events.length === 1) await ctx.publisher.send(events[0]!);
  else for (const batch of toBatches(events, { idPrefix: `${ctx.runId}-${tag}-batch`, source: ctx.source, version })) await ctx.publisher.send(batch);
  for (const p of changes) ctx.prices.set(p.gtin, p.cents);
}

function setRadio(ctx: StepContext, kind: 'frameLoss' | 'corruption' | 'duplication', p: number): void {
  ctx.radio[kind] = p;
  if (kind === 'frameLoss') ctx.sim.setFrameLoss(p);
  else if (kind === 'corruption') ctx.sim.setCorruption(p);
  else ctx.sim.setDuplication(p);
}

const RADIO_KIND = { 'frame-loss': 'frameLoss', corruption: 'corruption', duplication: 'duplication' } as const;

/** The products a stock or lot step acts on. */
function pickProducts(ctx: StepContext, sel: { gtins?: string[] | undefined; count?: number | undefined; fraction?: number | undefined; category?: string | undefined }): string[] {
  if (sel.gtins !== undefined) return sel.gtins;
  if (sel.category !== undefined) return ctx.store.products.filter((p) => p.category === sel.category).map((p) => p.gtin);
  const all = ctx.store.products.map((p) => p.gtin);
  return sample(ctx.random, all, countOf(sel, all.length));
}

/** A calendar day in Europe/Berlin, `days` after the simulated now (YYYY-MM-DD). */
function berlinDay(now: number, days: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(now);
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Runs one step; `tag` makes its event ids unique within the run. */
export async function runStep(ctx: StepContext, step: Step, tag: string): Promise<StepOutcome> {
  switch (step.type) {
    case 'label-rules': {
      const event = { id: `${ctx.runId}-${tag}-rules`, source: ctx.source, version: ctx.versions.next(), type: 'rules', data: { scope: step.scope, rules: step.rules } } as unknown as EdgeEvent;
      const reply = await ctx.publisher.send(event);
      return { summary: `${step.rules.length} label rules (${step.scope}): ${reply.status}${reply.reason ? ` (${reply.reason})` : ''}` };
    }
    case 'stock': {
      const gtins = pickProducts(ctx, step);
      const version = ctx.versions.next();
      for (const gtin of gtins) await ctx.publisher.send({ id: `${ctx.runId}-${tag}-stock-${gtin}`, source: ctx.source, version, type: 'stock', data: { gtin, quantity: step.quantity } });
      return { summary: `stock of ${gtins.length} products at ${step.quantity}`, targets: gtins };
    }
    case 'lot': {
      const gtins = pickProducts(ctx, step);
      const bestBefore = berlinDay(ctx.clock.now(), step.bestBeforeInDays);
      const version = ctx.versions.next();
      for (const gtin of gtins) await ctx.publisher.send({ id: `${ctx.runId}-${tag}-lot-${gtin}`, source: ctx.source, version, type: 'lot', data: { gtin, lotId: `${ctx.runId}-${tag}`, bestBefore, quantity: step.quantity } });
      return { summary: `lot of ${gtins.length} products, best before ${bestBefore}`, targets: gtins };
    }
    case 'ap-offline': {
      await ctx.sim.setApOnline(step.apId, false, step.fault);
      const back = ctx.clock.sleep(step.durationS * 1000).then(() => ctx.sim.setApOnline(step.apId, true, step.fault));
      ctx.background(`${step.apId} back online`, back);
      return { summary: `${step.apId} offline (${step.fault}) for ${step.durationS} s`, targets: [step.apId] };
    }
    case 'reboot-labels': {
      const ids = pickLabels(ctx, step);
      for (const id of ids) ctx.sim.rebootLabel(id);
      return { summary: `${ids.length} labels rebooted`, targets: ids };
    }
    case 'battery': {
      const ids = pickLabels(ctx, step);
      for (const id of ids) ctx.sim.setLabelBattery(id, step.mv);
      return { summary: `battery of ${ids.length} labels at ${step.mv} mV`, targets: ids };
    }
    case 'frame-loss':
    case 'corruption':
    case 'duplication': {
      const kind = RADIO_KIND[step.type];
      const before = ctx.radio[kind];
      setRadio(ctx, kind, step.p);
      if (step.durationS !== undefined) {
        ctx.background(`${step.type} back to ${before}`, ctx.clock.sleep(step.durationS * 1000).then(() => setRadio(ctx, kind, before)));
      }
      return { summary: `${step.type} ${step.p}${step.durationS !== undefined ? ` for ${step.durationS} s` : ''}` };
    }
    case 'move-label': {
      const labelId = step.labelId ?? ctx.store.labels[step.labelIndex!]!.labelId;
      const { from } = ctx.sim.moveLabel(labelId, step.toApId);
      return { summary: `label ${labelId} moved from ${from} to ${step.toApId}`, targets: [labelId] };
    }
    case 'price-change': {
      const all = ctx.store.products.map((p) => p.gtin);
      const gtins = step.gtins ?? sample(ctx.random, all, countOf(step, all.length));
      const spreadMs = step.spreadS !== undefined ? step.spreadS * 1000 : undefined;
      if (spreadMs === undefined) await sendPrices(ctx, gtins, step.percent, undefined, tag);
      else ctx.background(`price changes over ${step.spreadS} s`, sendPrices(ctx, gtins, step.percent, spreadMs, tag));
      return { summary: `${gtins.length} prices ${step.percent > 0 ? '+' : ''}${step.percent} %${spreadMs !== undefined ? ` over ${step.spreadS} s` : ''}`, targets: gtins };
    }
    case 'full-repricing': {
      const gtins = ctx.store.products.map((p) => p.gtin);
      await sendPrices(ctx, gtins, step.percent, undefined, tag);
      return { summary: `all ${gtins.length} prices ${step.percent > 0 ? '+' : ''}${step.percent} %` };
    }
    case 'expect-converged': {
      // The timeline waits here: what follows acts on a converged store (or on a late one, reported as failed).
      const r = await ctx.checkpoint(step.withinS * 1000);
      return { summary: r.converged ? `converged after ${r.afterS} s` : `not converged within ${step.withinS} s` };
    }
  }
}
