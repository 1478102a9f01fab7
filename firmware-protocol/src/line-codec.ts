/**
 * Serial line encoding (README.md §12): one frame per line, `'@' + base64(frame bytes) + '\n'`.
 *
 * Text lines survive what a raw binary UART stream does not: boot-loader banners, debug prints and line noise
 * end at the next '\n', and a reader using a line parser (delimiter '\n') never needs to resynchronise inside a
 * frame. Integrity still comes from the CRC inside the frame (§3.1); base64 only makes the bytes printable.
 */
import { ProtocolError } from './errors.js';
import { decodeFrame, encodeFrame, type DecodeResult } from './frame-codec.js';
import type { Frame } from './messages.js';

export const LINE_MARKER = '@';
export type LineDecodeResult = DecodeResult & { discardedChars: number };

/** Standard base64 alphabet with '=' padding (RFC 4648 §4); length a multiple of 4. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes a frame as one line, including the terminating '\n'. Throws like encodeFrame. */
export function encodeLine(frame: Frame): string {
  return LINE_MARKER + Buffer.from(encodeFrame(frame)).toString('base64') + '\n';
}

/**
 * Decodes one line (with or without its '\n'; a '\r' before it is tolerated). §12 tells receivers to ignore
 * empty lines: callers skip them before decoding (here they give LINE_BAD_ENCODING like any line without '@'). Everything before the last '@' is
 * noise and counted in `discardedChars` — a frame's base64 never contains '@', so the last marker starts the
 * only frame the line can hold. Never throws: a line without '@' or with bad base64 gives LINE_BAD_ENCODING,
 * and the frame errors of decodeFrame pass through.
 */
export function decodeLine(line: string): LineDecodeResult {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0a) end--;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--;
  const body = line.slice(0, end);
  const at = body.lastIndexOf(LINE_MARKER);
  if (at < 0) {
    return {
      ok: false,
      error: new ProtocolError('LINE_BAD_ENCODING', "no '@' frame marker on the line", { length: body.length }),
      discardedChars: body.length,
    };
  }
  const b64 = body.slice(at + 1);
  if (b64.length === 0 || !BASE64.test(b64)) {
    return {
      ok: false,
      error: new ProtocolError('LINE_BAD_ENCODING', 'frame is not valid padded base64', { length: b64.length }),
      discardedChars: at,
    };
  }
  const bytes = Buffer.from(b64, 'base64');
  return { ...decodeFrame(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), discardedChars: at };
}
