/**
 * Issue 16: one module owns a label's state. No source file under src/ or simulator/ but the label store writes the
 * `labels` table (INSERT, UPDATE, DELETE, REPLACE, UPSERT) — the migrations, which create it, excepted. The scanner
 * is checked against statements it must catch, so a rewrite of it that finds nothing fails too.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../../src/domain/rendering/package-root.js';

const OWNER = 'src/domain/labels/label-store.ts';
/** The write-behind upsert lives beside the record it maps (the store is its only user). */
const OWNER_FILES = new Set([OWNER, 'src/domain/labels/label-record.ts']);
const EXEMPT = new Set(['src/persistence/migrations.ts']);

/** SQL that writes the `labels` table (not label_telemetry, not other tables whose name ends in "labels"). */
const WRITE = /\b(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+or\s+\w+)?|delete\s+from)\s+["'`[]?labels["'`\]]?(?![\w])/i;

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (name.endsWith('.ts')) yield p;
  }
}

export function writersOfLabels(roots: string[]): string[] {
  const found: string[] = [];
  for (const root of roots) {
    for (const file of tsFiles(join(PACKAGE_ROOT, root))) {
      const rel = relative(PACKAGE_ROOT, file).split('\\').join('/');
      if (EXEMPT.has(rel)) continue;
      // Statements span lines: look at the text with whitespace collapsed.
      const text = readFileSync(file, 'utf8').replace(/\s+/g, ' ');
      if (WRITE.test(text)) found.push(rel);
    }
  }
  return found;
}

describe('the labels table has one writer', () => {
  it('recognises every form of a write to labels, and not writes to other tables', () => {
    for (const sql of [
      'UPDATE labels SET dirty = dirty + 1 WHERE gtin = ?',
      'update  labels\n   set x = 1',
      'INSERT INTO labels (label_id) VALUES (?)',
      'INSERT OR IGNORE INTO labels (label_id) VALUES (?)',
      'REPLACE INTO labels VALUES (?)',
      'DELETE FROM labels WHERE label_id = ?',
      'UPDATE OR REPLACE "labels" SET x = 1',
    ]) {
      expect(WRITE.test(sql.replace(/\s+/g, ' ')), sql).toBe(true);
    }
    for (const sql of ['INSERT INTO label_telemetry (label_id) VALUES (?)', 'SELECT * FROM labels', 'UPDATE labels_archive SET x = 1', 'DELETE FROM dead_letters']) {
      expect(WRITE.test(sql), sql).toBe(false);
    }
  });

  it('no module but the label store writes it', () => {
    const writers = writersOfLabels(['src', 'simulator']);
    expect(writers.filter((f) => !OWNER_FILES.has(f))).toEqual([]);
    // The owner does: otherwise the scan is broken, not the rule kept.
    expect(writers).toContain(OWNER);
  });

  it('no module but the label store reads it either (the stages ask the store)', () => {
    const readers: string[] = [];
    for (const root of ['src']) {
      for (const file of tsFiles(join(PACKAGE_ROOT, root))) {
        const rel = relative(PACKAGE_ROOT, file).split('\\').join('/');
        if (OWNER_FILES.has(rel) || EXEMPT.has(rel)) continue;
        if (/\b(?:from|join)\s+labels\b/i.test(readFileSync(file, 'utf8').replace(/\s+/g, ' '))) readers.push(rel);
      }
    }
    expect(readers).toEqual([]);
  });
});
