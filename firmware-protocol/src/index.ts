/**
 * Public API of the esl-edge access-point protocol (firmware-protocol/README.md). Everything outside this folder
 * imports from here only.
 */
export * from './messages.js';
export * from './label-types.js';
export * from './content-hash.js';
export * from './errors.js';
export * from './crc32.js';
export * from './message-codec.js';
export * from './frame-codec.js';
export * from './framer.js';
export * from './line-codec.js';
export * from './seq-window.js';
export * from './ack-rules.js';
export * from './retry-policy.js';
export * from './transfer-blocks.js';
export * from './transfer-messages.js';
export * from './radio-offer.js';
export {
  encodeImage,
  applyImage,
  changedRegion,
  partialRefreshApplies,
  xferDoneStatusFor,
  EMPTY_REGION,
  ZLIB_WINDOW_BITS,
  type EncodedImage,
  type KnownHashes,
  type Region,
} from './image-codec.js';
export * from './packbits.js';
export * from './encoding-choice.js';
export {
  CtxDecoderState,
  ctxDecode,
  ctxEncodeReference,
  CTX_CONTEXTS,
  CTX_DECODER_STATE_BYTES,
  CTX_MAX_ROW_BYTES,
  CTX_TEMPLATE_SET,
  type CtxGeometry,
  type CtxRect,
} from './ctx-codec.js';
export { ctxEncode } from './ctx-encoder.js';
export { fuzzCtxDecoder } from './ctx-fuzz.js';
export * from './plane-image.js';
export * from './topics.js';
export * from './version.js';
