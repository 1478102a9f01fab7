/**
 * How the edge's Node process is started in a store (deploy/esl-edge.service), in one place so that benchmarks which
 * fork an edge (bench/full-store, bench/edge-resources) measure the same process (D42). Both settings must be given
 * before the process starts: V8 sizes the main isolate's young generation at start-up, and glibc reads
 * MALLOC_ARENA_MAX once.
 *
 * - `--max-semi-space-size=4`: the main thread's young generation grows to 16 MB semi-spaces by default (tens of MB
 *   of RSS that stay reserved after start-up and bursts); 4 MB saved 24–26 MB of idle RSS with no measurable CPU cost.
 * - `MALLOC_ARENA_MAX=2`: glibc gives every thread that mallocs (the libuv pool that runs sqlite and zlib, libvips'
 *   threads, the render worker) an arena of its own, and freed memory stays in them; two arenas cut 35 MB of RSS
 *   after a 2,000-label repricing.
 */
export const EDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
export const EDGE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
