/**
 * CRC-32/ISO-HDLC (the CRC of zlib, Ethernet and PNG): polynomial 0x04C11DB7 reflected (0xEDB88320), initial
 * value 0xFFFFFFFF, final XOR 0xFFFFFFFF; check value 0xCBF43926 for ASCII "123456789" (README.md §3.1).
 * Table-driven, one byte per step, so firmware can implement it byte for byte the same way (1 KiB table).
 */

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of `bytes`. `seed` is a previous result, to continue a CRC over data that arrives in pieces:
 * `crc32(b, crc32(a)) === crc32(a ++ b)`.
 */
export function crc32(bytes: Uint8Array, seed = 0): number {
  return crc32Range(bytes, 0, bytes.length, seed);
}

/**
 * CRC-32 of `bytes[start, end)`, as crc32 of that subarray: the frame codec checks every frame's CRC over all but
 * its last 4 bytes, and a subarray per frame was a view object per frame on the simulator's busiest path (D163).
 */
export function crc32Range(bytes: Uint8Array, start: number, end: number, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) {
    c = (TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  }
  return (c ^ 0xffffffff) >>> 0;
}
