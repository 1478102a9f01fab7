/**
 * Frame codec speed (D139): encodeFrame and decodeFrame (firmware-protocol/src/frame-codec.ts, §3) on the frames of one
 * price change's exchange — the radio frames between a label and its AP (§9.1: check-in, offer, block request, part,
 * transfer done, sleep) and the AP's reports to the edge (§5: a label check-in, a transfer result, a wake report of
 * 20 entries). The simulator encodes and decodes every radio frame of thousands of labels; the edge every AP message.
 *
 * Baseline in the same run: copying each frame's bytes and computing its CRC-32 (the work no codec can skip), so the
 * ratio holds on a noisy machine. `--codec PATH` measures another build's codec (an index.js of firmware-protocol,
 * e.g. the commit before, built in a worktree) with the same frames: before and after in one file.
 *
 *   npm run bench -- frame-codec      [--frames 200000] [--codec /path/to/dist/firmware-protocol/src/index.js] [--tag NAME]
 *
 * stdout: one JSON line per frame kind and one summary line ({"bench":"frame-codec", …}). CPU time, best of 5.
 */
import * as current from '#protocol';
import type { Frame } from '#protocol';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const N = arg('frames', 200_000);
const REPEAT = 5;
const CODEC = strArg('codec');
const TAG = strArg('tag');
const codec = (CODEC ? await import(CODEC) : current) as Pick<typeof current, 'encodeFrame' | 'decodeFrame' | 'crc32'>;

const LABEL = '0011223344556677'.toUpperCase();
const SHOWN = '0123456789abcdef';
const TARGET = 'fedcba9876543210';
const part = Uint8Array.from({ length: 99 }, (_, i) => (i * 37) & 0xff);
const frame = (seq: number, message: Frame['message']): Frame => ({ version: 1, seq, ackRequested: false, message });

/** One delta transfer's exchange (§9.1, §9.10 offer with part 0 inline, one more part) and what the AP tells the edge. */
const FRAMES: { name: string; frame: Frame }[] = [
  { name: 'RADIO_CHECKIN', frame: frame(1, { type: 'RADIO_CHECKIN', labelId: LABEL, labelType: 1, displayedHash: SHOWN, page: 0, batteryMv: 2950, temperatureC: 21, wakeReason: 0, decoders: 0x1f }) },
  {
    name: 'RADIO_OFFER',
    frame: frame(2, { type: 'RADIO_OFFER', transferId: 70_001, kind: 2, encoding: 3, baseHash: SHOWN, targetHash: TARGET, totalSize: 150, region: { x: 8, y: 48, width: 120, height: 40 }, displayAt: 0, page: 0, data: part }),
  },
  { name: 'RADIO_BLOCK_REQUEST', frame: frame(3, { type: 'RADIO_BLOCK_REQUEST', transferId: 70_001, blockIndex: 0, partsWanted: Uint8Array.of(0b10) }) },
  { name: 'RADIO_PART', frame: frame(4, { type: 'RADIO_PART', transferId: 70_001, blockIndex: 0, partIndex: 1, data: part.subarray(0, 51) }) },
  { name: 'RADIO_XFER_DONE', frame: frame(5, { type: 'RADIO_XFER_DONE', transferId: 70_001, status: 0, displayedHash: TARGET }) },
  { name: 'RADIO_SLEEP', frame: frame(6, { type: 'RADIO_SLEEP', nextWakeS: 30, nowMs: 1_764_000_000_000 }) },
  {
    name: 'LABEL_CHECKIN',
    frame: frame(7, { type: 'LABEL_CHECKIN', labelId: LABEL, labelType: 1, displayedHash: SHOWN, page: 0, batteryMv: 2950, rssi: -61, lqi: 200, temperatureC: 21, wakeReason: 0, pendingTransferId: 0, decoders: 0x1f }),
  },
  { name: 'TRANSFER_RESULT', frame: frame(8, { type: 'TRANSFER_RESULT', transferId: 70_001, labelId: LABEL, status: 0, displayedHash: TARGET, bytesOnAir: 226 }) },
  {
    name: 'WAKE_REPORT',
    frame: frame(9, { type: 'WAKE_REPORT', entries: Array.from({ length: 20 }, (_, i) => ({ labelId: `00112233445566${(0x10 + i).toString(16).toUpperCase()}`, agoMs: 40 * i, awakeMs: 70, nextWakeS: 30 })) }),
  },
];

/** Best of REPEAT runs of `fn` called `n` times: CPU µs per call (process CPU time, not wall time). */
function time(n: number, fn: () => unknown): number {
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const u = process.cpuUsage(t0);
    best = Math.min(best, (u.user + u.system) / n);
  }
  return best;
}

const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'frame-codec', ...(TAG ? { tag: TAG } : {}), ...(CODEC ? { codec: CODEC } : {}), ...o })}\n`);
const totals = { encode: 0, decode: 0, floor: 0 };
for (const { name, frame: f } of FRAMES) {
  const bytes = codec.encodeFrame(f);
  // Both builds must give the same bytes, and decode them back to the frame.
  if (!Buffer.from(bytes).equals(Buffer.from(current.encodeFrame(f)))) throw new Error(`${name}: the codecs encode different bytes`);
  const back = codec.decodeFrame(bytes);
  if (!back.ok) throw back.error;
  const n = Math.max(1, Math.round(N / FRAMES.length));
  const encodeUs = time(n, () => codec.encodeFrame(f));
  const decodeUs = time(n, () => codec.decodeFrame(bytes));
  const floorUs = time(n, () => codec.crc32(Uint8Array.from(bytes)));
  totals.encode += encodeUs;
  totals.decode += decodeUs;
  totals.floor += floorUs;
  out({ frame: name, bytes: bytes.length, encode_us: +encodeUs.toFixed(3), decode_us: +decodeUs.toFixed(3), copy_crc_us: +floorUs.toFixed(3) });
}
out({
  summary: true,
  frames: FRAMES.length,
  exchange_encode_us: +totals.encode.toFixed(2),
  exchange_decode_us: +totals.decode.toFixed(2),
  exchange_copy_crc_us: +totals.floor.toFixed(2),
  encode_vs_copy_crc: +(totals.encode / totals.floor).toFixed(2),
  decode_vs_copy_crc: +(totals.decode / totals.floor).toFixed(2),
});
