/**
 * Issue 10, defect 8: the code cited docs/security.md, which did not exist. Every `docs/….md` the source cites, and
 * every relative .md link in the docs and the README, must point at a file that exists.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

describe('documentation links', () => {
  it('every docs/*.md cited in the source exists', () => {
    const cited = new Set<string>();
    const folders = ['src', 'bench', 'hq', 'demo', 'contracts', 'simulator', 'firmware-protocol'].filter((d) => existsSync(join(ROOT, d)));
    for (const f of folders.flatMap((d) => files(join(ROOT, d), '.ts'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bdocs\/([\w-]+\.md)/g)) cited.add(m[1]!);
    }
    expect(cited).toContain('security.md');
    for (const doc of cited) expect(existsSync(join(ROOT, 'docs', doc)), `docs/${doc}`).toBe(true);
  });

  it('relative .md links in README and docs resolve', () => {
    for (const f of [join(ROOT, 'README.md'), ...files(join(ROOT, 'docs'), '.md')]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\]\(((?!https?:)[^)#\s]+\.md)(#[^)]*)?\)/g)) {
        expect(existsSync(resolve(dirname(f), m[1]!)), `${f}: ${m[1]}`).toBe(true);
      }
    }
  });
});
