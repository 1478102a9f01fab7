/**
 * Counts calls of some methods of an object (a Database, a Tx) while passing them through: how many statements or
 * transactions a piece of code costs, asserted by the batching tests (D115, D122).
 */
export function countCalls<T extends object>(target: T, methods: readonly string[]): { proxy: T; count: () => number } {
  let n = 0;
  const proxy = new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (typeof prop === 'string' && methods.includes(prop)) n++;
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { proxy, count: () => n };
}
