/** Types of lint/layers.mjs (plain JavaScript, loaded by eslint.config.js before any TypeScript tooling). */
import type { ESLint } from 'eslint';

export declare const ROOT: string;
export declare const PACKAGES: Record<string, { dir: string; src: string; index: string }>;
export declare const LAYERS: Record<string, string[]>;
export declare function layerOf(file: string): string | null;
export declare function resolveSpecifier(fromFile: string, spec: string): string | null;
export declare function importViolation(fromFile: string, spec: string): string | null;
export declare const layersPlugin: ESLint.Plugin;
