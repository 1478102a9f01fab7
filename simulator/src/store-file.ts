/**
 * The store file (simulator/stores/*.json): the APs and labels of a simulated store and the product each label is
 * bound to. The simulator CLI starts a StoreSimulator from it; the edge's demo loads products, prices and bindings
 * from the same file, so both sides agree on which label shows which product.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { gtinCheckDigitOk } from '#contracts';
import { LabelIdSchema, labelTypeById } from '#protocol';

export const GtinSchema = z.string().refine(gtinCheckDigitOk, 'GTIN must have 8, 12, 13 or 14 digits and a valid check digit');

const apIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'AP id: 1–32 of A–Z a–z 0–9 _ -');

/** Units of a pack size; the base units of PAngV §5 plus pieces. */
export const PackUnitSchema = z.enum(['g', 'kg', 'ml', 'l', 'm', 'm²', 'Stück']);

export const ProductSchema = z.object({
  gtin: GtinSchema,
  name: z.string().min(1).max(200),
  brand: z.string().min(1).max(100).optional(),
  /** Net quantity of one pack; for loose goods the quantity the price refers to (e.g. 1 kg). */
  packSize: z.object({ quantity: z.number().positive(), unit: PackUnitSchema }),
  category: z.string().min(1).max(60),
  /** Regular price in euro cents for one pack (loose goods: per packSize, e.g. per kg). */
  regularPriceCents: z.number().int().positive(),
  /** Sold by weight from the counter or a loose display (PAngV §4(2): may show the unit price only). */
  loose: z.boolean().default(false),
});
export type Product = z.infer<typeof ProductSchema>;

export const StoreFileApSchema = z.object({
  apId: apIdSchema,
  /** 802.15.4 channel the AP announces (11–26). */
  channel: z.number().int().min(11).max(26).default(11),
});

export const StoreFileLabelSchema = z.object({
  labelId: LabelIdSchema,
  labelType: z.number().int().refine((id) => labelTypeById(id) !== undefined, 'unknown label type id'),
  apId: apIdSchema,
  neighbourApId: apIdSchema.optional(),
  /** The product this label shows. */
  gtin: GtinSchema,
});

export const StoreFileSchema = z
  .object({
    chain: z.string().regex(/^[a-z0-9-]{1,32}$/),
    store: z.string().regex(/^[a-z0-9-]{1,32}$/),
    aps: z.array(StoreFileApSchema).min(1),
    products: z.array(ProductSchema),
    labels: z.array(StoreFileLabelSchema),
  })
  .superRefine((file, ctx) => {
    const apIds = new Set(file.aps.map((a) => a.apId));
    if (apIds.size !== file.aps.length) ctx.addIssue({ code: 'custom', path: ['aps'], message: 'duplicate AP id' });
    const gtins = new Set(file.products.map((p) => p.gtin));
    if (gtins.size !== file.products.length) ctx.addIssue({ code: 'custom', path: ['products'], message: 'duplicate GTIN' });
    const labelIds = new Set<string>();
    file.labels.forEach((l, i) => {
      if (labelIds.has(l.labelId)) ctx.addIssue({ code: 'custom', path: ['labels', i, 'labelId'], message: 'duplicate label id' });
      labelIds.add(l.labelId);
      if (!apIds.has(l.apId)) ctx.addIssue({ code: 'custom', path: ['labels', i, 'apId'], message: `unknown AP ${l.apId}` });
      if (l.neighbourApId !== undefined && (!apIds.has(l.neighbourApId) || l.neighbourApId === l.apId)) {
        ctx.addIssue({ code: 'custom', path: ['labels', i, 'neighbourApId'], message: `bad neighbour AP ${l.neighbourApId}` });
      }
      if (!gtins.has(l.gtin)) ctx.addIssue({ code: 'custom', path: ['labels', i, 'gtin'], message: `no product with GTIN ${l.gtin}` });
    });
  });
export type StoreFile = z.infer<typeof StoreFileSchema>;

/** Reads and validates a store file; throws a zod error naming the offending path. */
export async function loadStoreFile(path: string): Promise<StoreFile> {
  return StoreFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}
