/**
 * Points fontconfig at the fonts shipped in label-templates/fonts/ and nothing else, before libvips is loaded.
 *
 * sharp's bundled libvips renders SVG <text> through pango and fontconfig. Left alone, fontconfig reads the host's
 * /etc/fonts and picks whatever fonts the machine has, so the same SVG would rasterise differently per host. This
 * module must be evaluated before `sharp` is first imported: `sharp.ts` imports it for its side effect first, and
 * every module of the edge imports sharp from `sharp.ts`, never from 'sharp' directly (the simulator, which
 * draws no text, imports sharp itself: fontconfig reads this setting at the first text render, D77).
 *
 * The shipped label-templates/fonts.conf lists the font directory relative to itself. fontconfig cannot take its
 * cache directory from the environment without also redirecting XDG paths, so a two-line wrapper in os.tmpdir()
 * includes the shipped file and adds a private cache directory there.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FONTS_CONF } from './package-root.js';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function writeRuntimeConfig(): string {
  // One directory per install and user: two checkouts never share a cache that lists the other's font files.
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  const tag = createHash('sha256').update(FONTS_CONF).digest('hex').slice(0, 12);
  const dir = path.join(tmpdir(), `esl-edge-fontconfig-${uid}-${tag}`);
  const cacheDir = path.join(dir, 'cache');
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(dir, 'fonts.conf');
  const xml =
    '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n' +
    `  <include ignore_missing="no">${xmlEscape(FONTS_CONF)}</include>\n` +
    `  <cachedir>${xmlEscape(cacheDir)}</cachedir>\n</fontconfig>\n`;
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== xml) {
    // Write-then-rename: processes starting together never read a half-written file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, xml);
    renameSync(tmp, file);
  }
  return file;
}

export const FONTCONFIG_FILE = writeRuntimeConfig();
process.env.FONTCONFIG_FILE = FONTCONFIG_FILE;
// FONTCONFIG_PATH is where fontconfig looks for a default config if the file above were ever ignored: the shipped one.
process.env.FONTCONFIG_PATH = path.dirname(FONTS_CONF);
