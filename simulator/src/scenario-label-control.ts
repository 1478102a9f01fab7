/**
 * Two label changes a scenario makes that StoreSimulator has no method for: a battery that drops (`battery` step)
 * and a label moved to another AP's area (`move-label` step). Both write fields of VirtualLabel that the label
 * reads at each wake-up (its battery for the check-in, its home AP through StoreSimulator.servingAp), so the
 * change acts from the label's next wake-up on, as it would in a store. They are kept in this one file and
 * covered by test/simulator/scenario-file.test.ts, which fails if VirtualLabel stops honouring them.
 */
import type { StoreSimulator } from './store-simulator.js';
import type { VirtualLabel } from './virtual-label.js';

/** The writable view of the VirtualLabel fields these changes touch. */
interface LabelInternals {
  battery: number;
  homeApId: string;
  neighbourApId: string | undefined;
}

function internals(label: VirtualLabel): LabelInternals {
  return label as unknown as LabelInternals;
}

/** The label's battery is at `mv` from now on (it keeps draining from there). The AP forwards a 50 mV change at once (§5.3). */
export function setLabelBattery(sim: StoreSimulator, labelId: string, mv: number): void {
  if (!Number.isFinite(mv) || mv < 0) throw new RangeError(`battery ${mv} mV out of range`);
  internals(sim.label(labelId)).battery = mv;
}

/**
 * The label now hangs where only `toApId` hears it: it checks in there at its next wake-up (FIRST_CONTACT, §5.3)
 * and the edge must route its transfers to that AP. Its former neighbour no longer hears it either.
 */
export function moveLabel(sim: StoreSimulator, labelId: string, toApId: string): { from: string } {
  const label = sim.label(labelId);
  sim.ap(toApId); // throws SIM_UNKNOWN_AP for an AP the store does not have
  const from = label.homeApId;
  const l = internals(label);
  l.homeApId = toApId;
  l.neighbourApId = undefined;
  return { from };
}
