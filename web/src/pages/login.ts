import { errorMessage, postJson } from '../api';
import type { Cleanup } from '../context';
import { append, h, setStatus, statusLine } from '../dom';
import type { LoginAnswer } from '../types';

export interface LoginOptions {
  siteName: string;
  signedInAs: string | null;
  onLogin: (answer: LoginAnswer) => Promise<void>;
}

export function renderLogin(root: HTMLElement, options: LoginOptions): Cleanup {
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', text: 'Log in' });
  const status = statusLine('info');
  const form = h(
    'form',
    { class: 'login-form', 'aria-labelledby': 'page-title' },
    h('h1', { id: 'page-title', text: `${options.siteName} command centre` }),
    options.signedInAs ? h('p', { class: 'muted', text: `You are signed in as ${options.signedInAs}; logging in again starts a new session.` }) : null,
    h('label', { for: 'login-username', text: 'Username' }),
    username,
    h('label', { for: 'login-password', text: 'Password' }),
    password,
    submit,
    status,
  );
  const publicNote = h(
    'p',
    { class: 'login-public' },
    'Not staff? The ',
    h('a', { href: '/transparency', text: 'transparency page' }),
    ' lists every camera, what it can do and on what legal basis, and how the system is used. No login needed.',
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    setStatus(status, 'info', 'Logging in…');
    postJson<LoginAnswer>('/api/login', { username: username.value, password: password.value })
      .then(async (answer) => {
        password.value = '';
        await options.onLogin(answer);
      })
      .catch((error: unknown) => {
        setStatus(status, 'error', errorMessage(error));
        password.select();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  append(root, h('div', { class: 'login-wrap' }, h('div', {}, form, publicNote)));
  username.focus();
  return () => undefined;
}
