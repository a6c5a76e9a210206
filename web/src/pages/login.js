// login.js: the login page. After a successful login the user's session
// (GET /me: role, language, CSRF token) is loaded and the page they were
// on (?next=) is shown again.

import { h, replace } from '../dom.js';
import { post, get, setCSRF } from '../api.js';
import { t, setLocale, isLocale } from '../i18n.js';
import { setMe } from './session.js';
import { updateShell } from './shell.js';
import { setTitle } from './common.js';

// safeNext is the ?next= path when it is a path of the workspace.
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/')) return '/';
  let u;
  try {
    u = new URL(next, window.location.origin); // as the browser will read it (tabs and newlines dropped)
  } catch {
    return '/';
  }
  if (u.origin !== window.location.origin || u.pathname.startsWith('//') || u.pathname.startsWith('/login')) return '/';
  return u.pathname + u.search;
}

// loadSession reads GET /me and applies it: CSRF token, language.
export async function loadSession() {
  const me = await get('/me');
  if (me.csrf_token) setCSRF(me.csrf_token);
  if (me.language && isLocale(me.language)) setLocale(me.language);
  setMe(me);
  return me;
}

// loginPage draws the login form into view.
export function loginPage(view, ctx) {
  setTitle(t('login.title'));
  const err = h('div', { className: 'banner banner-error', hidden: true, attrs: { role: 'alert' }, dataset: { testid: 'login-error' } });
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, dataset: { testid: 'login-username' }, id: 'login-username' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, dataset: { testid: 'login-password' }, id: 'login-password' });
  const submit = h('button', { type: 'submit', className: 'btn btn-primary', text: t('login.submit'), dataset: { testid: 'login-submit' } });
  const form = h(
    'form',
    {
      className: 'login-form',
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          err.hidden = true;
          submit.disabled = true;
          submit.textContent = t('login.busy');
          try {
            const ans = await post('/login', { username: user.value.trim(), password: pass.value });
            setCSRF(ans?.csrf_token);
            await loadSession();
            updateShell('');
            ctx.navigate(safeNext(ctx.query.get('next')), { replace: true });
          } catch (e) {
            pass.value = '';
            err.textContent = e.status === 401 || e.status === 403 ? t('login.failed') : e.status === 429 ? t('login.tooMany') : e.status === 0 ? t('error.network') : t('login.error', { message: e.message });
            err.hidden = false;
            submit.disabled = false;
            submit.textContent = t('login.submit');
            pass.focus();
          }
        },
      },
    },
    h('h1', { text: t('login.title') }),
    h('p', { className: 'hint', text: t('login.intro') }),
    err,
    h('label', { htmlFor: 'login-username', text: t('login.username') }),
    user,
    h('label', { htmlFor: 'login-password', text: t('login.password') }),
    pass,
    submit,
  );
  replace(view, h('div', { className: 'login-wrap' }, form));
  setTimeout(() => user.focus(), 0);
}
