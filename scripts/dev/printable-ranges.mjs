// Writes label-templates/fonts/printable.json from the bundled fonts (D136). Run: npm run fonts:printable
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { buildPrintableFile, printableFileText } from '../../dist/src/domain/rendering/printable-set-build.js';
import { FONT_DIR } from '../../dist/src/domain/rendering/package-root.js';
import { PRINTABLE_FILE } from '../../dist/src/domain/rendering/printable-set.js';

const file = path.join(FONT_DIR, PRINTABLE_FILE);
const f = buildPrintableFile();
writeFileSync(file, printableFileText(f));
process.stdout.write(`${file}: ${f.ranges.length / 2} ranges from ${Object.keys(f.fonts).length} font files\n`);
