/**
 * The one HTML page of the dashboard: it loads the bundle (dashboard/src, built by `npm run build`), which renders
 * everything else. Sent with 200 to a session and with 401 without one (the bundle then shows the log-in form), so
 * no page of the dashboard answers 200 to a stranger. German first: the store staff's language.
 */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function appShell(assetVersion: string, storeName: string): string {
  return `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<link rel="icon" href="data:,">
<title>esl-edge · ${escapeHtml(storeName)}</title>
<link rel="stylesheet" href="/dashboard/assets/app.css?v=${assetVersion}">
<script type="module" src="/dashboard/assets/app.js?v=${assetVersion}"></script>
</head>
<body>
<div id="app"><noscript>Das Dashboard braucht JavaScript. / The dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}

/** Content-Security-Policy of the page: only our own bundle, no inline script, the camera for the barcode scanner. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
