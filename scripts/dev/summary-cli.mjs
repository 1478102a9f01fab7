/**
 * The command line the summary scripts share (heapprofile-summary, heapsnapshot-summary): FILE and `--top N`, and a
 * line printer that ends quietly when its reader goes away (`… | head`).
 */
import process from 'node:process';

export function summaryCli(script) {
  process.stdout.on('error', () => process.exit(0));
  const file = process.argv[2];
  if (!file) {
    process.stderr.write(`usage: ${script} FILE [--top N]\n`);
    process.exit(2);
  }
  const at = process.argv.indexOf('--top');
  return { file, top: at > 0 ? Number(process.argv[at + 1]) : 40, print: (line) => process.stdout.write(`${line}\n`) };
}
