/**
 * Locates the esl-edge package root (the folder holding package.json) from this module's own location, so that
 * bundled assets (label-templates/, its fonts) resolve the same from src/ (vitest) and from dist/src/ (after `tsc`:
 * dist/ mirrors the tree; its package.json only maps the import aliases (scripts/dev/dist-package.mjs, D79) and it has no
 * label-templates/, so walking up passes through it).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'label-templates'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`PACKAGE_ROOT_NOT_FOUND: no package.json above ${start}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The bundled templates; stores add their own directories after it (later directories override earlier). */
export const BUNDLED_TEMPLATE_DIR = path.join(PACKAGE_ROOT, 'label-templates');
export const FONT_DIR = path.join(BUNDLED_TEMPLATE_DIR, 'fonts');
export const FONTS_CONF = path.join(BUNDLED_TEMPLATE_DIR, 'fonts.conf');
