/**
 * Errors of template loading and label rendering: EslErrors (contracts/src/errors.ts, layer `rendering`) made the same way
 * at every call site.
 */
import { EslError } from '#contracts';

export type TemplateErrorCode =
  /** Not JSON, or not the template format (the zod issue, with its field path). */
  | 'TEMPLATE_INVALID'
  /** A page shows a price without the unit price element (PAngV §4). */
  | 'TEMPLATE_PANGV_4'
  /** A promotion page lacks the lowest-prior-price element (PAngV §11). */
  | 'TEMPLATE_PANGV_11'
  /** A template directory cannot be read. */
  | 'TEMPLATE_DIR_UNREADABLE';

/** A template file that cannot be used: the message names the file and the field path ("" for the whole file). */
export function templateError(code: TemplateErrorCode, file: string, path: string, detail: string): EslError<TemplateErrorCode> {
  return new EslError(code, `${code}: ${file}${path ? ` at ${path}` : ''}: ${detail}`, { file, path, detail });
}

export type RenderErrorCode =
  | 'CONTENT_INVALID'
  | 'TEMPLATE_NOT_FOUND'
  /** The template has no layout for the label type. */
  | 'TEMPLATE_NO_LAYOUT'
  | 'PAGE_OUT_OF_RANGE'
  /** Legally required text (a price, a PAngV line) does not fit even at the smallest legible size. */
  | 'LAYOUT_OVERFLOW'
  /** Planes or a pixel buffer of the wrong size or colours for the label type. */
  | 'PLANES_INVALID'
  | 'PNG_INVALID'
  /** A printed field has a character no bundled font has (it would be an empty box); the message names it. */
  | 'CONTENT_UNSUPPORTED_CHARACTER'
  /** Prices that contradict each other: a "statt" price above the §11 lowest price, a promotion that is no reduction. */
  | 'CONTENT_INCOHERENT'
  /** A markdown template (no §11 line) asked to render a reduction that is not exempt (PAngV §11(4) no. 2). */
  | 'TEMPLATE_NOT_EXEMPT';

/** A label that cannot be rendered (the message starts with the code, as the preview's 422 body shows it). */
export function renderError(code: RenderErrorCode, message: string): EslError<RenderErrorCode> {
  return new EslError(code, `${code}: ${message}`);
}

/** zod issue path → "layouts[0].pages[1].elements[2].box.x". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
