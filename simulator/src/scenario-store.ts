/**
 * Generated stores for scenarios: N APs, M labels with an exact label-type mix, and a seeded catalogue of German
 * supermarket kind (names, fictional brands, pack sizes for the Grundpreis of PAngV §4, GTIN-13s with valid check
 * digits). The same spec and seed always give the same store, so a scenario is reproducible and its seed events
 * are the same every run (the edge answers "duplicate").
 */
import { gtin13 } from '#contracts';
import { labelTypeByName } from '#protocol';
import { randomInt, seededRandom, type Random } from './rng.js';
import type { GeneratedStore } from './scenario-schema.js';
import { StoreFileSchema, type Product, type StoreFile } from './store-file.js';

type PackUnit = Product['packSize']['unit'];

interface ProductTemplate {
  name: string;
  category: string;
  sizes: readonly (readonly [number, PackUnit])[];
  /** Price range of one pack, in cents. */
  cents: readonly [number, number];
}

const TEMPLATES: readonly ProductTemplate[] = [
  { name: 'Frische Vollmilch 3,5 % Fett', category: 'Molkereiprodukte', sizes: [[1, 'l'], [0.5, 'l']], cents: [89, 159] },
  { name: 'Naturjoghurt mild 3,8 % Fett', category: 'Molkereiprodukte', sizes: [[500, 'g'], [150, 'g']], cents: [39, 129] },
  { name: 'Deutsche Markenbutter', category: 'Molkereiprodukte', sizes: [[250, 'g']], cents: [179, 299] },
  { name: 'Gouda jung in Scheiben', category: 'Käse', sizes: [[400, 'g'], [150, 'g']], cents: [149, 399] },
  { name: 'Emmentaler gerieben', category: 'Käse', sizes: [[200, 'g']], cents: [139, 249] },
  { name: 'Roggenmischbrot', category: 'Backwaren', sizes: [[750, 'g'], [500, 'g']], cents: [119, 289] },
  { name: 'Vollkorn-Toastbrot', category: 'Backwaren', sizes: [[500, 'g']], cents: [99, 199] },
  { name: 'Spaghetti aus Hartweizengrieß', category: 'Teigwaren', sizes: [[500, 'g'], [1, 'kg']], cents: [79, 249] },
  { name: 'Basmati-Reis', category: 'Reis & Getreide', sizes: [[1, 'kg'], [500, 'g']], cents: [149, 399] },
  { name: 'Haferflocken kernig', category: 'Frühstück', sizes: [[500, 'g']], cents: [59, 149] },
  { name: 'Erdbeer-Konfitüre extra', category: 'Frühstück', sizes: [[450, 'g']], cents: [149, 329] },
  { name: 'Röstkaffee gemahlen', category: 'Heißgetränke', sizes: [[500, 'g'], [250, 'g']], cents: [299, 899] },
  { name: 'Schwarzer Tee Ostfriesen-Mischung', category: 'Heißgetränke', sizes: [[250, 'g']], cents: [199, 449] },
  { name: 'Mineralwasser classic', category: 'Getränke', sizes: [[1.5, 'l'], [0.75, 'l']], cents: [19, 89] },
  { name: 'Apfelsaft naturtrüb', category: 'Getränke', sizes: [[1, 'l']], cents: [99, 249] },
  { name: 'Tomaten passiert', category: 'Konserven', sizes: [[500, 'g']], cents: [59, 149] },
  { name: 'Kidneybohnen', category: 'Konserven', sizes: [[400, 'g']], cents: [59, 129] },
  { name: 'Sonnenblumenöl', category: 'Öl & Essig', sizes: [[1, 'l']], cents: [149, 349] },
  { name: 'Vollmilch-Schokolade', category: 'Süßwaren', sizes: [[100, 'g']], cents: [89, 199] },
  { name: 'Butterkekse', category: 'Süßwaren', sizes: [[200, 'g']], cents: [79, 189] },
  { name: 'Kartoffelchips gesalzen', category: 'Knabberartikel', sizes: [[175, 'g']], cents: [99, 229] },
  { name: 'Spülmittel Zitrone', category: 'Haushalt', sizes: [[500, 'ml']], cents: [79, 199] },
  { name: 'Toilettenpapier 3-lagig', category: 'Haushalt', sizes: [[8, 'Stück']], cents: [229, 449] },
  { name: 'Duschgel sensitiv', category: 'Drogerie', sizes: [[250, 'ml']], cents: [95, 249] },
];

const BRANDS = ['Hofgut Weidenau', 'Almtal', 'Käserei Nordmarsch', 'Backstube Lindner', 'Sonnfeld', 'Gut Erlenhof', 'Nordlicht', 'Bergquell', 'Marktliebe', 'Rheinaue'];
const VARIANTS = ['', 'Bio-', 'Feine ', 'Klassik ', 'Regional: '];

/** Label type per label: the exact mix of the weights (largest remainder), shuffled with the seed. */
export function labelTypeMix(weights: Record<string, number>, labels: number, random: Random): number[] {
  const entries = Object.entries(weights).map(([name, w]) => ({ id: labelTypeByName(name)!.id, w }));
  const total = entries.reduce((s, e) => s + e.w, 0);
  const shares = entries.map((e) => ({ id: e.id, exact: (e.w / total) * labels }));
  const counts = shares.map((s) => Math.floor(s.exact));
  const order = shares.map((s, i) => ({ i, rest: s.exact - counts[i]! })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let k = 0, left = labels - counts.reduce((a, b) => a + b, 0); k < left; k++) counts[order[k % order.length]!.i]!++;
  const out = shares.flatMap((s, i) => new Array<number>(counts[i]!).fill(s.id));
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The store a GeneratedStore spec describes (validated against the store file schema). */
export function generateStore(spec: GeneratedStore): StoreFile {
  const random = seededRandom(spec.seed);
  const seedTag = String(Math.abs(spec.seed) % 1000).padStart(3, '0');
  const aps = Array.from({ length: spec.aps }, (_, i) => ({ apId: `${spec.apIdPrefix}${i + 1}`, channel: 11 + ((i * 5) % 16) }));
  const productCount = spec.products ?? spec.labels;
  const products: Product[] = Array.from({ length: productCount }, (_, i) => {
    const t = TEMPLATES[i % TEMPLATES.length]!;
    const [quantity, unit] = t.sizes[randomInt(random, t.sizes.length)]!;
    const variant = VARIANTS[Math.floor(i / TEMPLATES.length) % VARIANTS.length]!;
    const cents = t.cents[0] + randomInt(random, t.cents[1] - t.cents[0] + 1);
    return {
      // 40xxxx: German GS1 prefix; the seed tag keeps stores of different seeds apart on one edge.
      gtin: gtin13(`40${seedTag}${String(i).padStart(7, '0')}`),
      name: `${variant}${t.name}`,
      brand: BRANDS[randomInt(random, BRANDS.length)]!,
      packSize: { quantity, unit },
      category: t.category,
      regularPriceCents: cents,
      loose: false,
    };
  });
  const types = labelTypeMix(spec.labelTypes, spec.labels, random);
  const idTag = (spec.seed >>> 0).toString(16).toUpperCase().padStart(8, '0').slice(-4);
  const labels = Array.from({ length: spec.labels }, (_, i) => {
    const home = Math.min(spec.aps - 1, Math.floor((i * spec.aps) / spec.labels));
    const neighbour = spec.aps > 1 && random() < spec.neighbourFraction ? (home + 1) % spec.aps : undefined;
    return {
      labelId: `5CE0${idTag}${i.toString(16).toUpperCase().padStart(8, '0')}`,
      labelType: types[i]!,
      apId: aps[home]!.apId,
      ...(neighbour !== undefined ? { neighbourApId: aps[neighbour]!.apId } : {}),
      gtin: products[i % productCount]!.gtin,
    };
  });
  return StoreFileSchema.parse({ chain: spec.chain, store: spec.store, aps, products, labels });
}
