/**
 * The store dashboard's single page: log-in, a header (store, live state, language, user), the navigation, and the
 * page of the current hash route. Preact + htm (no build-time JSX), bundled by esbuild (dashboard/build.ts).
 * Live: one EventSource on /dashboard/api/stream; each page refetches what it shows when the summary's version
 * changes, so the page follows the store without a reload.
 */
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { DICTS, formatters, initialLang, saveLang, type Lang } from './i18n.js';
import { get, post, setCsrf, whenUnauthorized, type Me, type Summary } from './api.js';
import { Overview } from './pages/overview.js';
import { Wall } from './pages/wall.js';
import { Detail } from './pages/detail.js';
import { Events } from './pages/events.js';
import { Templates } from './pages/templates.js';
import { Pick } from './pages/pick.js';
import { Login } from './pages/login.js';
import type { PageProps } from './pages/page-props.js';

function parseRoute(hash: string): { path: string; params: URLSearchParams } {
  const h = hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?');
  return { path: path || '/', params: new URLSearchParams(query ?? '') };
}

function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function useLive(enabled: boolean) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    const es = new EventSource('/dashboard/api/stream');
    es.addEventListener('summary', (e) => {
      setSummary(JSON.parse((e as MessageEvent<string>).data) as Summary);
      setConnected(true);
    });
    es.onopen = () => setConnected(true);
    es.onerror = () => {
      setConnected(false);
      // A 401 ends the stream for good; ask whether the session is still there.
      if (es.readyState === EventSource.CLOSED) void get('/me').catch(() => undefined);
    };
    return () => es.close();
  }, [enabled]);
  return { summary, connected };
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang());
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const route = useRoute();
  const { summary, connected } = useLive(Boolean(me));
  const t = DICTS[lang];
  const fmt = formatters(lang);

  useEffect(() => {
    whenUnauthorized(() => setMe(null));
    get<Me>('/me')
      .then((m) => {
        setCsrf(m.csrf);
        setMe(m);
      })
      .catch(() => setMe(null));
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t.title} · esl-edge`;
  }, [lang]);

  const switchLang = () => {
    const next = lang === 'de' ? 'en' : 'de';
    saveLang(next);
    setLang(next);
  };
  const langButton = html`<button type="button" class="link-button" lang=${lang === 'de' ? 'en' : 'de'} title=${t.languageLabel} onClick=${switchLang}>${t.language}</button>`;

  if (me === undefined) return html`<main id="main" class="page"><p>${t.loading}</p></main>`;
  if (me === null)
    return html`<header class="top"><span class="brand">esl-edge · ${t.title}</span>${langButton}</header>
      <${Login} t=${t} onLogin=${(m: Me) => { setCsrf(m.csrf); setMe(m); }} />`;

  const logout = async () => {
    await post('/logout').catch(() => undefined);
    setMe(null);
  };
  const props: PageProps = { t, fmt, lang, me, version: summary?.version ?? '', summary, params: route.params, path: route.path };
  const detail = /^\/labels\/([0-9A-F]{16})$/.exec(route.path);
  const page = detail
    ? html`<${Detail} ...${props} labelId=${detail[1]} />`
    : route.path === '/labels'
      ? html`<${Wall} ...${props} />`
      : route.path === '/events'
        ? html`<${Events} ...${props} />`
        : route.path === '/templates'
          ? html`<${Templates} ...${props} />`
          : route.path === '/pick'
            ? html`<${Pick} ...${props} />`
            : html`<${Overview} ...${props} />`;
  const nav: [string, string][] = [
    ['/', t.overview],
    ['/labels', t.wall],
    ['/events', t.events],
    ['/templates', t.templates],
    ['/pick', t.pick],
  ];
  const current = (p: string) => (p === '/' ? route.path === '/' : route.path.startsWith(p));
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>${t.skip}</a>
    <header class="top">
      <span class="brand">esl-edge · ${me.store.name ?? `${me.store.chain}/${me.store.id}`}</span>
      <span class=${`live ${connected ? 'on' : 'off'}`} role="status" data-testid="live">
        ${connected ? html`<span aria-hidden="true">●</span> ${t.live}${summary ? ` · ${t.updated} ${fmt.time(summary.generatedAt)}` : ''}` : t.offline}
      </span>
      <span class="spacer"></span>
      ${langButton}
      <span class="who">${me.user} (${t.role[me.role] ?? me.role})</span>
      <button type="button" class="link-button" onClick=${logout}>${t.logout}</button>
    </header>
    <nav aria-label=${t.nav} class="nav">
      <ul>${nav.map(([href, label]) => html`<li><a href=${`#${href}`} aria-current=${current(href) ? 'page' : undefined}>${label}</a></li>`)}</ul>
    </nav>
    <main id="main" class="page" tabindex="-1">${page}</main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
