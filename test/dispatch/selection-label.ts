/**
 * A label record with the fields the dispatcher's selection reads (a label waiting to be sent a new picture), for
 * the selection and pacing tests; `desiredSince` is when its picture changed.
 */
import type { LabelRecord } from '../../src/domain/labels/label-store.js';

export function selectionLabel(id: number, desiredSince: number, over: Partial<LabelRecord> = {}): Readonly<LabelRecord> {
  return {
    id: `L${id}`,
    transferState: null,
    needsSend: true,
    labelType: 3,
    dropTimed: false,
    desiredHash: 'bbbbbbbbbbbbbbbb',
    confirmedHash: 'aaaaaaaaaaaaaaaa',
    nextHash: null,
    nextAt: null,
    nextAttemptAt: 0,
    priority: 2,
    desiredSince,
    ...over,
  } as unknown as Readonly<LabelRecord>;
}
