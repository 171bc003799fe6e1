import type { PageElements } from './page';

// The admin token: typed in by the operator, kept in this tab's sessionStorage only
// (never localStorage or a cookie) and sent as `Authorization: Bearer` to the admin
// API. And the screens around it: the sign-in form, the admin API switched off, the
// dashboard itself.

const TOKEN_KEY = 'switchyard.adminToken';

export function token(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch {
    // Storage off: the token lives for this page only.
  }
}

/** `loading`: signed in, before the first answer; nothing but the header shows. */
export type Screen = 'login' | 'disabled' | 'loading' | 'app';

export function show(els: PageElements, screen: Screen, message = ''): void {
  els.login.hidden = screen !== 'login';
  els.disabled.hidden = screen !== 'disabled';
  els.app.hidden = screen !== 'app';
  els.logout.hidden = screen === 'login';
  if (screen === 'login') {
    els.loginMessage.textContent = message;
    els.version.textContent = '';
    els.status.textContent = '';
    els.input.focus();
  }
}
