/**
 * The encoder checks each field against its wire range while writing it (message-codec.ts writeFields, D163)
 * instead of parsing every message with MessageSchema first. messages.ts states that the schema's ranges are the
 * wire ranges; this file holds the two to that promise: a valid message with any one field (or nested field)
 * replaced by any value — in range, out of range, of the wrong type — is refused by the encoder exactly when the
 * schema refuses it, plus the two rules the schema cannot state (a lone surrogate has no UTF-8 form, §3.5; an
 * offer's data is empty or min(totalSize, 99) bytes, §9.10). A refusal names the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageSchema, ProtocolError, encodePayload, type Message } from '../src/index.js';
import { messageArb, messageArbitraries } from './arbitraries.js';

type Path = (string | number)[];

/** Every place in `m` a value can be replaced: top-level fields, a region's members, list entries and their fields, a command's fields. */
function pathsOf(m: Record<string, unknown>, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (prefix.length === 0 && k === 'type') continue;
    out.push([...prefix, k]);
    if (v instanceof Uint8Array || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        out.push([...prefix, k, i]);
        out.push(...pathsOf(item as Record<string, unknown>, [...prefix, k, i]));
      });
    } else {
      out.push(...pathsOf(v as Record<string, unknown>, [...prefix, k]));
    }
  }
  return out;
}

function withValue(m: Message, path: Path, value: unknown): Message {
  const copy = structuredClone(m) as unknown as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = value;
  return copy as unknown as Message;
}

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function hasLoneSurrogate(v: unknown): boolean {
  if (typeof v === 'string') return LONE.test(v);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return false;
  return Object.values(v).some(hasLoneSurrogate);
}

/** What the encoder must accept: the schema's verdict and the two rules it cannot state. */
function acceptable(m: Message): boolean {
  if (!MessageSchema.safeParse(m).success) return false;
  if (hasLoneSurrogate(m)) return false;
  if (m.type === 'RADIO_OFFER') return m.data.length === 0 || m.data.length === Math.min(m.totalSize, 99);
  return true;
}

/** Replacement values: every integer range's edges and one beyond, other types, hex of either case, long strings and bytes. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, 1, -1, 127, 128, -128, -129, 255, 256, 0xffff, 0x10000, 0xffffffff, 0x100000000, -0x80000000, -0x80000001, 0x7fffffff),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 1.5, -0.5, NaN, Infinity, -Infinity, 0x42, 15, 3),
  fc.constantFrom('0011223344556677', 'AABBCCDDEEFF0011', 'aabbccddeeff0011', '0000000000000000', 'AABBCCDDEEFF001', 'AABBCCDDEEFF00112', 'GGBBCCDDEEFF0011'),
  fc.constantFrom('', 'x'.repeat(16), 'x'.repeat(17), 'x'.repeat(32), 'x'.repeat(33), 'ä'.repeat(16), 'ä'.repeat(17), 'a\uD800', '\uDC00b', '\uD83D\uDE00'),
  fc.constantFrom(null, undefined, true, {}, [], [{}], { x: 0, y: 0, width: 0, height: 0 }, { x: 8, y: 1, width: 8, height: 1 }, { x: -1, y: 0, width: 0, height: 0 }),
  fc.constantFrom(new Uint8Array(0), new Uint8Array(1), new Uint8Array(99), new Uint8Array(100), new Uint8Array(255), new Uint8Array(256), new Uint8Array(4096), new Uint8Array(4097)),
  fc.constantFrom({ type: 'LED_FLASH', labelId: '0011223344556677', colour: 1, onMs: 1, offMs: 1, repeat: 1 }, { type: 'ACK', ackSeq: 1, status: 0 }, { type: 'READ_SENSOR' }),
  fc.constantFrom(
    Array.from({ length: 255 }, () => ({ labelId: '0011223344556677', inMs: 1, agoMs: 1, awakeMs: 1, nextWakeS: 1 })),
    Array.from({ length: 256 }, () => ({ labelId: '0011223344556677', inMs: 1, agoMs: 1, awakeMs: 1, nextWakeS: 1 })),
  ),
  fc.integer({ min: -0x100000001, max: 0x100000001 }),
  fc.string({ maxLength: 40 }),
);

function check(m: Message, path: Path, value: unknown): void {
  const changed = withValue(m, path, value);
  const expected = acceptable(changed);
  let error: unknown;
  try {
    encodePayload(changed);
  } catch (e) {
    error = e;
  }
  if (expected) {
    expect(error).toBeUndefined();
    return;
  }
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).code).toBe('MSG_INVALID');
  const field = String((error as ProtocolError).details?.['field']);
  // The refusal names the field replaced (or, inside it, the member at fault); an offer's totalSize can also make
  // its data the field at fault (§9.10).
  if (!(changed.type === 'RADIO_OFFER' && field === 'data')) expect(field.startsWith(path.join('.'))).toBe(true);
}

describe('the encoder refuses a message exactly when MessageSchema does (D163)', () => {
  it('on every message type with one field replaced', () => {
    fc.assert(
      fc.property(
        messageArb.chain((m) => {
          const paths = pathsOf(m as unknown as Record<string, unknown>);
          return fc.tuple(fc.constant(m), paths.length === 0 ? fc.constant<Path | null>(null) : fc.constantFrom<Path | null>(...paths), junk);
        }),
        ([m, path, value]) => {
          if (path === null) return;
          check(m, path, value);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it.each(Object.keys(messageArbitraries))('%s: each of its fields replaced', (type) => {
    const arb = messageArbitraries[type as keyof typeof messageArbitraries] as fc.Arbitrary<Message>;
    fc.assert(
      fc.property(arb, junk, fc.nat(), (m, value, pick) => {
        const paths = pathsOf(m as unknown as Record<string, unknown>);
        if (paths.length === 0) return;
        check(m, paths[pick % paths.length]!, value);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every valid message as the schema does', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(acceptable(m)).toBe(true);
        expect(() => encodePayload(m)).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('names the field of a nested fault', () => {
    const report = { type: 'WAKE_REPORT', entries: [{ labelId: '0011223344556677', agoMs: 1, awakeMs: 1, nextWakeS: 1 }, { labelId: '0011223344556677', agoMs: 70000, awakeMs: 1, nextWakeS: 1 }] };
    expect(() => encodePayload(report as Message)).toThrow(expect.objectContaining({ code: 'MSG_INVALID', details: expect.objectContaining({ field: 'entries.1.agoMs' }) }));
    const command = { type: 'RADIO_COMMAND', labelId: '0011223344556677', command: { type: 'PAGE_SWITCH', labelId: '0011223344556677', page: 1, durationS: -1 } };
    expect(() => encodePayload(command as unknown as Message)).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'command.durationS' }) }));
  });

  it('refuses what is not a message of this protocol version', () => {
    for (const m of [null, 'ACK', { type: 'NOPE' }, { type: 'toString' }, { type: '__proto__' }, []]) {
      expect(() => encodePayload(m as unknown as Message)).toThrow(expect.objectContaining({ code: 'MSG_INVALID', details: expect.objectContaining({ field: 'type' }) }));
    }
  });
});
