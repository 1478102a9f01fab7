/** Graceful stop on SIGTERM/SIGINT, shared by the `esl-edge` command and the demo's (`npm run demo`). */

/** SIGTERM/SIGINT stop the daemon gracefully; a second signal exits at once. */
export function onShutdownSignals(stop: () => Promise<void>): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    process.stderr.write(`esl-edge: ${signal} received, shutting down\n`);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
