/**
 * A store operation: one named action with a zod input contract and exactly one implementation (issue 15). Every
 * transport that offers it — an HTTP route, an MQTT request (`…/req/{kind}`), a dashboard action — validates the
 * caller's input against `input` and calls `run`; none repeats the logic. A ZodError from the input is the caller's
 * mistake (HTTP 400, MQTT `REQUEST_SCHEMA`); anything else is the edge's.
 */
import type { z } from 'zod';

/** Who asked: recorded in the log line and, for operations that make an event, in its `source`. */
export interface Caller {
  via: 'http' | 'mqtt' | 'dashboard';
}

export interface Operation<I extends z.ZodType = z.ZodType, R = unknown> {
  readonly name: string;
  /** One line for the API documents (OpenAPI summary, AsyncAPI channel description). */
  readonly summary: string;
  readonly input: I;
  run(input: z.output<I>, caller: Caller): Promise<R>;
}

/** Validates raw input (throws the ZodError) and runs the operation. */
export async function invoke<I extends z.ZodType, R>(op: Operation<I, R>, raw: unknown, caller: Caller): Promise<R> {
  return op.run(op.input.parse(raw), caller);
}
