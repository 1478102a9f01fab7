import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { post, type Me } from '../api.js';
import type { Dict } from '../i18n.js';

export function Login({ t, onLogin }: { t: Dict; onLogin: (m: Me) => void }) {
  const [error, setError] = useState('');
  const submit = async (e: Event, body: Record<string, string>) => {
    e.preventDefault();
    const r = await post<Me & { error?: string }>('/login', body);
    if (r.status !== 200) return setError(t.loginFailed);
    const me = await fetch('/dashboard/api/me', { credentials: 'same-origin' }).then((x) => x.json() as Promise<Me>);
    onLogin(me);
  };
  const value = (form: EventTarget | null, name: string) => ((form as HTMLFormElement).elements.namedItem(name) as HTMLInputElement).value;
  return html`<main id="main" class="page login" tabindex="-1">
    <h1>${t.login}</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <form class="card" onSubmit=${(e: Event) => submit(e, { username: value(e.currentTarget, 'username'), password: value(e.currentTarget, 'password') })}>
      <h2>${t.loginUser}</h2>
      <label for="login-user">${t.username}</label>
      <input id="login-user" name="username" autocomplete="username" required />
      <label for="login-password">${t.password}</label>
      <input id="login-password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit">${t.login}</button>
    </form>
    <form class="card" onSubmit=${(e: Event) => submit(e, { token: value(e.currentTarget, 'token') })}>
      <h2>${t.loginToken}</h2>
      <label for="login-token">${t.token}</label>
      <input id="login-token" name="token" type="password" autocomplete="off" required />
      <button type="submit">${t.login}</button>
    </form>
  </main>`;
}
