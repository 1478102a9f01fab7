/**
 * The check-in a label sends when it first hears its AP (protocol §5.3: wake reason FIRST_CONTACT, a blank panel),
 * as the benches without a radio feed it straight to the dispatcher: each label's type and AP become known, and the
 * planner has every label to plan.
 */
import { BLANK_HASH, LabelDecoder, WakeReason, type MessageOf } from '#protocol';

export function firstContactCheckin(labelId: string, labelType: number): MessageOf<'LABEL_CHECKIN'> {
  return {
    type: 'LABEL_CHECKIN',
    labelId,
    labelType,
    displayedHash: BLANK_HASH,
    page: 0,
    batteryMv: 2950,
    rssi: -67,
    lqi: 210,
    temperatureC: 21,
    wakeReason: WakeReason.FIRST_CONTACT,
    pendingTransferId: 0,
    decoders: LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX,
  };
}
