/**
 * Reads a scenario file, validates it and resolves its store (a store file, a generated store or an inline one),
 * then checks the timeline against that store: every AP, label and GTIN a step names must exist. A problem is a
 * EslError (SCENARIO_INVALID, details.problems) naming the file, the path inside it and what is wrong, e.g.
 *
 *   simulator/scenarios/ap-outage.json is not a valid scenario:
 *     - timeline.2.apId: no AP "AP-9" in the store (AP-1, AP-2, AP-3)
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { errorMessage, EslError } from '#contracts';
import { ScenarioSchema, atToMs, type Scenario, type Step } from './scenario-schema.js';
import { generateStore } from './scenario-store.js';
import { StoreFileSchema, type StoreFile } from './store-file.js';

/** A step with its simulated offset from the start of the timeline and its position in the file. */
export interface TimedStep {
  index: number;
  atMs: number;
  step: Step;
}

export interface ResolvedScenario {
  scenario: Scenario;
  /** The scenario file, when loaded from one. */
  file?: string;
  store: StoreFile;
  /** The timeline in order of time (steps at the same time in file order). */
  steps: TimedStep[];
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => String(p)).join('.');
}

function invalid(what: string, problems: string[]): EslError {
  return new EslError('SCENARIO_INVALID', `${what} is not a valid scenario:\n  - ${problems.join('\n  - ')}`, { problems });
}

function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((i) => `${pathOf([...prefix, ...i.path])}: ${i.message}`);
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EslError('SCENARIO_NOT_FOUND', `cannot read ${what} ${path}: ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new EslError('SCENARIO_MALFORMED_JSON', `${path} is not valid JSON: ${errorMessage(err)}`);
  }
}

/** Reads, validates and resolves a scenario file. */
export async function loadScenarioFile(path: string): Promise<ResolvedScenario> {
  const json = await readJson(path, 'scenario file');
  return resolveScenario(json, { file: path, baseDir: dirname(resolve(path)) });
}

/** Validates a scenario (parsed JSON or an object built in code) and resolves its store. */
export async function resolveScenario(input: unknown, opts: { file?: string; baseDir?: string } = {}): Promise<ResolvedScenario> {
  const what = opts.file ?? 'scenario';
  const parsed = ScenarioSchema.safeParse(input);
  if (!parsed.success) throw invalid(what, zodProblems(parsed.error));
  const scenario = parsed.data;

  let store: StoreFile;
  if (scenario.store.file !== undefined) {
    const storePath = resolve(opts.baseDir ?? process.cwd(), scenario.store.file);
    const storeJson = await readJson(storePath, 'store file');
    const s = StoreFileSchema.safeParse(storeJson);
    if (!s.success) throw invalid(what, zodProblems(s.error).map((p) => `store.file (${storePath}): ${p}`));
    store = s.data;
  } else if (scenario.store.generate !== undefined) {
    store = generateStore(scenario.store.generate);
  } else {
    store = scenario.store.inline!;
  }

  const problems = checkAgainstStore(scenario, store);
  if (problems.length > 0) throw invalid(what, problems);
  const steps = scenario.timeline.map((step, index) => ({ index, atMs: atToMs(step.at), step })).sort((a, b) => a.atMs - b.atMs || a.index - b.index);
  return { scenario, ...(opts.file !== undefined ? { file: opts.file } : {}), store, steps };
}

/** Every AP, label and GTIN a step names exists in the store, and counts fit. */
export function checkAgainstStore(scenario: Scenario, store: StoreFile): string[] {
  const problems: string[] = [];
  const apIds = store.aps.map((a) => a.apId);
  const labelIds = new Set(store.labels.map((l) => l.labelId));
  const gtins = new Set(store.products.map((p) => p.gtin));
  const apList = apIds.length > 6 ? `${apIds.slice(0, 6).join(', ')}, …` : apIds.join(', ');
  scenario.timeline.forEach((step, i) => {
    const at = (key: string, message: string) => problems.push(`timeline.${i}.${key}: ${message}`);
    const ap = (key: string, id: string) => {
      if (!apIds.includes(id)) at(key, `no AP "${id}" in the store (${apList})`);
    };
    const labels = (ids: readonly string[] | undefined) =>
      ids?.forEach((id, k) => {
        if (!labelIds.has(id)) at(`labelIds.${k}`, `no label ${id} in the store`);
      });
    switch (step.type) {
      case 'ap-offline':
        ap('apId', step.apId);
        break;
      case 'reboot-labels':
      case 'battery':
        labels(step.labelIds);
        if (step.count !== undefined && step.count > store.labels.length) at('count', `the store has only ${store.labels.length} labels`);
        break;
      case 'move-label':
        ap('toApId', step.toApId);
        if (step.labelId !== undefined && !labelIds.has(step.labelId)) at('labelId', `no label ${step.labelId} in the store`);
        if (step.labelIndex !== undefined && step.labelIndex >= store.labels.length) at('labelIndex', `the store has only ${store.labels.length} labels`);
        break;
      case 'price-change':
        step.gtins?.forEach((g, k) => {
          if (!gtins.has(g)) at(`gtins.${k}`, `no product ${g} in the store`);
        });
        if (step.count !== undefined && step.count > store.products.length) at('count', `the store has only ${store.products.length} products`);
        break;
      default:
        break;
    }
  });
  return problems;
}
