/**
 * The varied German catalogue the render benchmarks draw (render.ts, render-pool.ts): seeded, so every run renders
 * the same products; 10 % in a promotion and 15 % low on stock, as in the reference store.
 */
import { gtin13, type LabelContent } from '#contracts';
import { LABEL_TYPES, type LabelType } from '#protocol';
import { seededRandom } from '../simulator/src/rng.js';
import { REFERENCE_MIX } from './full-store-store.js';

/** `n` label types in the reference store's mix (shared/reference-store.md), spread evenly over the labels. */
export function referenceLabelTypes(n: number): LabelType[] {
  const wheel = Object.entries(REFERENCE_MIX).flatMap(([name, pct]) => Array<string>(pct).fill(name));
  return Array.from({ length: n }, (_, i) => LABEL_TYPES.find((t) => t.name === wheel[(i * 37) % wheel.length])!);
}

const BRANDS = ['Landliebe', 'Weihenstephan', 'Bärenmarke', 'Zott', 'Ehrmann', 'Dr. Oetker', 'Knorr', 'Maggi', 'Rügenwalder Mühle', 'Haribo', 'Bahlsen', 'Milka', 'Ritter Sport', 'Kerrygold', 'Hochland', 'Müller', 'Alnatura', 'Rapunzel', 'Teekanne', 'Jacobs', 'Tchibo', 'Wiesenhof', 'Iglo', 'Frosta', 'Leibniz'];
const ADJ = ['Bio-', 'Original', 'Feine', 'Klassische', 'Zarte', 'Herzhafte', 'Cremige', 'Knusprige', 'Fettarme', 'Laktosefreie', 'Vegane', 'Hausgemachte'];
const NOUNS = ['Vollmilch-Joghurt mild 3,8 % Fett', 'Rostbratwurst grob', 'Gouda jung in Scheiben', 'Haferflocken zart', 'Spaghetti Nr. 5', 'Tomatenketchup', 'Frischkäse Kräuter', 'Butterkekse', 'Vollmilchschokolade Haselnuss', 'Kaffee Crema ganze Bohne', 'Pfefferminztee', 'Hähnchenbrustfilet', 'Rahmspinat', 'Fischstäbchen', 'Apfelschorle', 'Mineralwasser Classic', 'Sahnepudding Vanille', 'Weizenmehl Type 405', 'Gewürzgurken', 'Kartoffelsalat nach Hausfrauenart'];
const PACKS: [string, number, 'g' | 'kg' | 'ml' | 'l'][] = [['150 g', 150, 'g'], ['200 g', 200, 'g'], ['250 g', 250, 'g'], ['400 g', 400, 'g'], ['500 g', 500, 'g'], ['1 kg', 1, 'kg'], ['0,33 l', 0.33, 'l'], ['0,75 l', 0.75, 'l'], ['1 l', 1, 'l'], ['1,5 l', 1.5, 'l'], ['500 ml', 500, 'ml']];

const gtinOf = (n: number) => gtin13(`4${String(n).padStart(11, '0')}`);

export function products(n: number, seed: number): LabelContent[] {
  const r = seededRandom(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const [packSize, qty, unit] = pick(PACKS);
    const priceCents = 49 + Math.floor(r() * 1950);
    const base = unit === 'g' ? qty / 1000 : unit === 'ml' ? qty / 1000 : qty;
    const unitCents = Math.round(priceCents / base);
    const c: LabelContent = {
      gtin: gtinOf(100_000 + i),
      name: `${pick(ADJ)} ${pick(NOUNS)}`.replace('- ', '-'),
      brand: pick(BRANDS),
      packSize,
      priceCents,
      currency: 'EUR',
      ...(unitCents !== priceCents ? { unitPrice: { cents: unitCents, per: unit === 'g' || unit === 'kg' ? ('1 kg' as const) : ('1 l' as const) } } : {}),
      stock: r() < 0.15 ? { state: 'low', quantity: 1 + Math.floor(r() * 5) } : { state: 'in_stock' },
    };
    if (r() < 0.1) c.promotion = { regularPriceCents: priceCents + 20 + Math.floor(r() * 100), lowestPrior30dCents: priceCents + 10, badge: 'Aktion', endsOn: '2026-11-24' };
    return c;
  });
}

