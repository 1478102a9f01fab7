/**
 * Issue 11 acceptance: a store where some labels decode CTX (protocol §6.6) and some are of before it (no decoders
 * byte in their check-in, RLE/ZLIB only) converges against the real edge: the CTX labels get CTX transfers, the
 * old ones never do (no UNSUPPORTED_FEATURE), and every panel shows the render bit for bit after a price change.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { StoreSimulator } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { ImageEncoding, ImageKind, LabelDecoder, StatusCode } from '#protocol';
import { SIM_LABEL_DECODERS } from '../../simulator/src/virtual-label.js';
import { LABELS, simWaitFor } from '../support/edge-fixture.js';
import { useEdgeStore } from '../support/edge-store.js';

/**
 * Labels 1 and 3 run firmware with CTX; 2 and 4 are older and announce nothing. Label 1 also takes the compact
 * RADIO_OFFER (§9.10, the simulator's default), label 3 does not (decoders bit 3 clear): it keeps RADIO_PENDING.
 */
const LEGACY = new Set([LABELS[1]!.labelId, LABELS[3]!.labelId]);
const NO_OFFER = LABELS[2]!.labelId;
const CTX_ONLY = LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX;
const announced = (id: string): number | null => (LEGACY.has(id) ? null : id === NO_OFFER ? CTX_ONLY : SIM_LABEL_DECODERS);

describe('a store of CTX and legacy labels', () => {
  // Edge and store share a paced clock; the edge's dispatch timings are then SIM_DISPATCH (simulated time).
  const e = useEdgeStore({
    speed: 20,
    store: { labels: LABELS.map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId, ...(LEGACY.has(l.labelId) ? { decoders: null } : l.labelId === NO_OFFER ? { decoders: CTX_ONLY } : {}) })) },
  });
  let daemon: Daemon;
  let sim: StoreSimulator;
  let clock: PacedClock;
  let version = 100;

  // Within a simulated budget (D22, D53): the old 40 s of wall time with the store on a RealClock failed whenever the
  // machine had other work.
  async function converged(ids: string[]): Promise<void> {
    await simWaitFor(clock, 'labels converged', () => e.converged(ids), 600_000);
  }

  beforeAll(async () => {
    ({ daemon, sim, clock } = e);
    await converged(LABELS.map((l) => l.labelId));
  }, 600_000);

  it('the edge keeps what each label announced (§5.3 decoders; null for the old firmware), and persists it', async () => {
    await daemon.labels.flush();
    for (const l of LABELS) {
      expect(daemon.labels.get(l.labelId)?.decoders ?? null).toBe(announced(l.labelId));
      const row = await daemon.db.get<{ decoders: number | null }>('SELECT decoders FROM labels WHERE label_id = ?', [l.labelId]);
      expect(row?.decoders ?? null).toBe(announced(l.labelId));
    }
  });

  it('a price change reaches every label; only the CTX labels get CTX, as a region delta', async () => {
    for (const l of LABELS) {
      version++;
      const r = await daemon.intake.ingest(JSON.stringify({ id: `p-${version}`, source: 'pos', version, type: 'price', data: { gtin: l.gtin, priceCents: 100 + version } }), { channel: 'local' });
      expect(r.reply.status).toBe('applied');
    }
    await daemon.planner.idle();
    await converged(LABELS.map((l) => l.labelId));
    for (const l of LABELS) {
      const transfers = sim.transferStats(l.labelId);
      expect(transfers.length).toBeGreaterThanOrEqual(2);
      for (const t of transfers) expect(t.status, `${l.labelId} transfer ${t.transferId}`).not.toBe(StatusCode.UNSUPPORTED_FEATURE);
      const encodings = transfers.map((t) => t.encoding);
      // §9.10 Only the label that announced RADIO_OFFER got its transfers offered that way.
      const offered = transfers.filter((t) => (t.radioOffers ?? 0) > 0).length;
      expect(offered, `${l.labelId} transfers offered with RADIO_OFFER`).toBe(announced(l.labelId) === SIM_LABEL_DECODERS ? transfers.length : 0);
      if (LEGACY.has(l.labelId)) {
        expect(encodings).not.toContain(ImageEncoding.CTX);
      } else {
        const last = transfers.at(-1)!;
        expect([last.kind, last.encoding]).toEqual([ImageKind.DELTA_REGION, ImageEncoding.CTX]);
      }
      const rendered = await daemon.images.load(daemon.labels.get(l.labelId)!.desiredHash!);
      expect(Buffer.from(sim.groundTruth(l.labelId)!.planes!).equals(Buffer.from(rendered!.planes))).toBe(true);
    }
  }, 600_000);
});
