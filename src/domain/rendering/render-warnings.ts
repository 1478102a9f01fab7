/**
 * Render warnings (issue 12, D47) as the preview API and the dashboard show them: what a label could not show as
 * the content asked (TEXT_SHORTENED, TEXT_DROPPED, BARCODE_TOO_SMALL, GTIN_...). Each warning starts with its code.
 */

/** The code of a warning line ("TEXT_SHORTENED: name ..." → "TEXT_SHORTENED"). */
export function warningCode(w: string): string {
  const m = /^([A-Z0-9_]+):/.exec(w);
  return m ? m[1]! : 'RENDER_WARNING';
}

/**
 * The x-render-warnings response header: the warnings as a JSON array, percent-encoded (HTTP header values are
 * ASCII; names in warnings are not). Empty array when the label shows everything.
 */
export function renderWarningsHeader(warnings: readonly string[]): string {
  return encodeURIComponent(JSON.stringify(warnings));
}
