/**
 * Which kind and encoding the edge sends a label (README.md §6.2, §6.6.1): the smallest payload among those both
 * the label's AP (AP_HELLO capabilities, §5.1) and the label itself (check-in decoders, §5.3) can take. A label
 * that never announced its decoders is of before §6.6 and gets RAW, RLE or ZLIB only, so old labels keep working.
 * Pure: the dispatcher calls it with what it knows and stages the result.
 */
import { encodeImage, partialRefreshApplies, type EncodedImage, type KnownHashes } from './image-codec.js';
import type { LabelType } from './label-types.js';
import { ApCapability, ImageEncoding, ImageKind, LEGACY_LABEL_DECODERS, LabelDecoder } from './messages.js';

export interface DecodeCapabilities {
  /** ApCapability bits of the label's AP (§5.1). */
  ap: number;
  /** LabelDecoder bits of the label's last check-in (§5.3); undefined or null = not announced (a legacy label). */
  label?: number | null | undefined;
}

/** §6.6.1 The encodings and kinds allowed for a label behind an AP. RAW and FULL are always allowed (§5.1). */
export function allowedEncodings(caps: DecodeCapabilities): { encodings: ImageEncoding[]; kinds: ImageKind[] } {
  const label = caps.label ?? LEGACY_LABEL_DECODERS;
  const both = (apBit: number, labelBit: number) => (caps.ap & apBit) !== 0 && (label & labelBit) !== 0;
  return {
    encodings: [
      ImageEncoding.RAW,
      ...(both(ApCapability.RLE, LabelDecoder.RLE) ? [ImageEncoding.RLE] : []),
      ...(both(ApCapability.ZLIB, LabelDecoder.ZLIB) ? [ImageEncoding.ZLIB] : []),
      ...(both(ApCapability.CTX, LabelDecoder.CTX) ? [ImageEncoding.CTX] : []),
    ],
    kinds: [
      ImageKind.FULL,
      ...(caps.ap & ApCapability.DELTA_XOR ? [ImageKind.DELTA_XOR] : []),
      ...(caps.ap & ApCapability.DELTA_REGION ? [ImageKind.DELTA_REGION] : []),
    ],
  };
}

/**
 * The payload for `planes` on a label that shows `previous` (undefined = unknown: FULL only): the smallest allowed
 * one, except that where the panel can refresh just a black/white region (§6.3.2, 1 s instead of 15 s) a region
 * delta is preferred to a smaller payload of another kind. `hashes`: the pictures' §3.4 hashes when the caller has them
 * (KnownHashes, D149), so neither picture is hashed again for each kind tried.
 */
export function chooseEncoding(caps: DecodeCapabilities, labelType: LabelType, planes: Uint8Array, previous?: Uint8Array, hashes?: KnownHashes): EncodedImage {
  const allowed = allowedEncodings(caps);
  let { encodings, kinds } = allowed;
  if (encodings.includes(ImageEncoding.CTX)) {
    // Speed (D29): where CTX is allowed it beat RLE and ZLIB on every rendered label of bench/protocol-bytes, and a
    // CTX region delta beat a whole-panel one, so only RAW (an empty region, a blank panel) and CTX are tried.
    encodings = [ImageEncoding.RAW, ImageEncoding.CTX];
    if (kinds.includes(ImageKind.DELTA_REGION)) kinds = kinds.filter((k) => k !== ImageKind.DELTA_XOR);
  }
  const base = previous ? { base: previous } : {};
  const known = hashes ? { hashes } : {};
  if (previous && labelType.partialRefresh && kinds.includes(ImageKind.DELTA_REGION)) {
    // The region delta is sent whenever the panel can refresh just that region, whatever else is smaller; so it is
    // encoded first, and the other kinds only when it does not apply (D41: this spares the FULL encoding of most
    // price changes). Same choice as encoding every kind first.
    const region = encodeImage({ labelType, target: planes, base: previous, encodings, kinds: [ImageKind.DELTA_REGION], ...known });
    if (partialRefreshApplies(labelType, ImageKind.DELTA_REGION, region.region, previous, planes)) return region;
  }
  return encodeImage({ labelType, target: planes, ...base, encodings, kinds, ...known });
}
