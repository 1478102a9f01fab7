/**
 * Unit price (Grundpreis) per PAngV §4 and §5.
 *
 * §5(1): the reference quantity is 1 kg, 1 l, 1 m, 1 m² or 1 m³ (the former 100 g / 100 ml option for small packs
 * no longer exists since 28 May 2022). §5(2): loose goods (lose Ware) may use 100 g or 100 ml where customary; here
 * `loose: true` selects it. Foods in a packing liquid are priced per drained weight (Abtropfgewicht).
 * §4(1): the unit price may be omitted when it equals the total price, so `undefined` is returned then.
 * Arithmetic is exact (integers / BigInt) and rounds half up to whole cents.
 */
import { z } from 'zod';
import { ErrorCode, EslError, type UnitPrice } from '#contracts';

export const MeasureUnitSchema = z.enum(['g', 'kg', 'ml', 'cl', 'l', 'mm', 'cm', 'm', 'm2', 'm3', 'piece']);
export type MeasureUnit = z.infer<typeof MeasureUnitSchema>;

export const UnitPriceInputSchema = z.object({
  /** Total price of the sales unit (the whole pack, or the whole multipack), in cents. */
  priceCents: z.number().int().nonnegative(),
  /** Quantity of one item in `unit` (e.g. 0.75 for 0,75 l). */
  quantity: z.number().positive().finite(),
  unit: MeasureUnitSchema,
  /** Loose goods sold by measure (§5(2)): per 100 g / 100 ml. */
  loose: z.boolean().optional(),
  /** Drained weight of one item in `unit`, for foods in a packing liquid. */
  drainedQuantity: z.number().positive().finite().optional(),
  /** Number of items sold together for `priceCents` (6 for "6 x 1,5 l"). */
  multipack: z.number().int().positive().optional(),
});
export type UnitPriceInput = z.infer<typeof UnitPriceInputSchema>;

type Dimension = 'mass' | 'volume' | 'length' | 'area' | 'cubic';

/** Each unit as a multiple of its dimension's base unit (g, ml, mm, m², m³). */
const UNIT: Record<Exclude<MeasureUnit, 'piece'>, { dim: Dimension; factor: number }> = {
  g: { dim: 'mass', factor: 1 },
  kg: { dim: 'mass', factor: 1000 },
  ml: { dim: 'volume', factor: 1 },
  cl: { dim: 'volume', factor: 10 },
  l: { dim: 'volume', factor: 1000 },
  mm: { dim: 'length', factor: 1 },
  cm: { dim: 'length', factor: 10 },
  m: { dim: 'length', factor: 1000 },
  m2: { dim: 'area', factor: 1 },
  m3: { dim: 'cubic', factor: 1 },
};

/** §5(1) reference quantity per dimension, in base units, and how it is printed. */
const REFERENCE: Record<Dimension, { base: number; per: UnitPrice['per'] }> = {
  mass: { base: 1000, per: '1 kg' },
  volume: { base: 1000, per: '1 l' },
  length: { base: 1000, per: '1 m' },
  area: { base: 1, per: '1 m²' },
  cubic: { base: 1, per: '1 m³' },
};
/** §5(2) reference for loose goods where customary. */
const LOOSE_REFERENCE: Partial<Record<Dimension, { base: number; per: UnitPrice['per'] }>> = {
  mass: { base: 100, per: '100 g' },
  volume: { base: 100, per: '100 ml' },
};

/**
 * Quantities are decimals (0,75 l); they are taken in thousandths of the base unit so that the division below is
 * exact. 1e-3 g, 1e-3 ml, 1e-3 mm, 1e-3 m² are far below any quantity a pack declares.
 */
const MILLI = 1000;

export function unitPrice(input: UnitPriceInput): UnitPrice | undefined {
  const parsed = UnitPriceInputSchema.safeParse(input);
  if (!parsed.success) throw new EslError(ErrorCode.UNIT_PRICE_INVALID_INPUT, `UNIT_PRICE_INVALID_INPUT: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { priceCents, unit, loose, drainedQuantity, multipack } = parsed.data;
  if (unit === 'piece') return undefined; // sold by the piece: no unit price (§4 covers measure only)
  const { dim, factor } = UNIT[unit];
  const ref = (loose ? LOOSE_REFERENCE[dim] : undefined) ?? REFERENCE[dim];
  // §5: foods in a packing liquid refer to the drained weight.
  const perItem = drainedQuantity ?? parsed.data.quantity;
  const milli = BigInt(Math.round(perItem * factor * MILLI)) * BigInt(multipack ?? 1);
  if (milli <= 0n) throw new EslError(ErrorCode.UNIT_PRICE_INVALID_INPUT, `UNIT_PRICE_INVALID_INPUT: quantity ${perItem} ${unit} is too small to price`);
  // cents per reference = price × reference / quantity, rounded half up (exact in BigInt).
  const num = BigInt(priceCents) * BigInt(ref.base * MILLI);
  const cents = Number((2n * num + milli) / (2n * milli));
  if (cents === priceCents) return undefined; // §4(1): may be omitted when equal to the total price
  return { cents, per: ref.per };
}
