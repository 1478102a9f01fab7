/**
 * PackBits run-length encoding, the RLE image encoding of README.md §6.2 (as in Apple PackBits / TIFF
 * compression 32773). A stream of records, each starting with a control byte c:
 *
 *   c = 0 … 127    the next c + 1 bytes are copied literally
 *   c = 129 … 255  the next single byte is repeated 257 − c times (2 … 128)
 *   c = 128        no operation (decoders skip it; this encoder never writes it)
 *
 * Cheap to decode in a few lines of label firmware with no working memory, and good on 1-bit planes whose rows
 * are mostly white (0x00) with short runs of text.
 */
import { ProtocolError } from './errors.js';

/** Compresses `data`. The output of the empty input is empty. */
export function packBits(data: Uint8Array): Uint8Array {
  // Worst case: one control byte per 128 literal bytes.
  const out = new Uint8Array(data.length + Math.ceil(data.length / 128));
  let o = 0;
  let litStart = -1;
  let litLen = 0;
  const flushLiteral = () => {
    if (litLen === 0) return;
    out[o++] = litLen - 1;
    out.set(data.subarray(litStart, litStart + litLen), o);
    o += litLen;
    litLen = 0;
  };
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    let run = 1;
    while (run < 128 && i + run < data.length && data[i + run] === b) run++;
    // A 2-byte run is as cheap as a literal only when no literal is open (2 bytes either way); inside a literal
    // it would cost one byte more, so it joins the literal.
    if (run >= 3 || (run === 2 && litLen === 0)) {
      flushLiteral();
      out[o++] = 257 - run;
      out[o++] = b;
      i += run;
    } else {
      for (let k = 0; k < run; k++) {
        if (litLen === 0) litStart = i + k;
        litLen++;
        if (litLen === 128) flushLiteral();
      }
      i += run;
    }
  }
  flushLiteral();
  return out.slice(0, o);
}

/**
 * Decompresses `data`, producing at most `maxLength` bytes: a stream that would write more, or that ends inside
 * a record, throws ProtocolError IMAGE_DECODE_FAILED. The caller checks the exact length it expects.
 */
export function unpackBits(data: Uint8Array, maxLength: number): Uint8Array {
  const out = new Uint8Array(maxLength);
  let o = 0;
  let i = 0;
  const fail = (why: string) => new ProtocolError('IMAGE_DECODE_FAILED', `RLE: ${why}`, { offset: i, produced: o, maxLength });
  while (i < data.length) {
    const c = data[i++]!;
    if (c < 128) {
      const n = c + 1;
      if (i + n > data.length) throw fail('literal runs past the end of the input');
      if (o + n > maxLength) throw fail('output exceeds the expected size');
      out.set(data.subarray(i, i + n), o);
      i += n;
      o += n;
    } else if (c > 128) {
      const n = 257 - c;
      if (i >= data.length) throw fail('repeat record without its byte');
      if (o + n > maxLength) throw fail('output exceeds the expected size');
      out.fill(data[i++]!, o, o + n);
      o += n;
    }
  }
  return o === maxLength ? out : out.slice(0, o);
}
