// Admin: user accounts; create one with a role, disable or enable.

import { errorMessage, getJson, postJson } from '../api';
import type { PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { formatTime } from '../format';
import { ROLES, type User } from '../types';

export const MIN_PASSWORD_CHARS = 12;

export function renderAdminUsers(root: HTMLElement, ctx: PageContext): () => void {
  const status = statusLine('info', 'Loading users…');
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'data', 'aria-label': 'Users' },
    h('thead', {}, h('tr', {}, ...['User', 'Role', 'State', 'Created', 'Action'].map((t) => h('th', { scope: 'col', text: t })))),
    body,
  );
  const username = h('input', { id: 'new-username', name: 'username', required: true, autocomplete: 'off', title: '3 to 64 characters of a-z, 0-9, dot, underscore, hyphen; starts with a letter or digit' });
  const password = h('input', { id: 'new-password', name: 'password', type: 'password', required: true, minlength: MIN_PASSWORD_CHARS, autocomplete: 'new-password' });
  const role = h('select', { id: 'new-role', name: 'role', required: true }, ...ROLES.map((r) => h('option', { value: r, text: r })));
  const formStatus = statusLine('info');
  const form = h(
    'form',
    { class: 'filters create-user', 'aria-label': 'Create a user' },
    h('div', { class: 'field' }, h('label', { for: 'new-username', text: 'New username' }), username),
    h('div', { class: 'field' }, h('label', { for: 'new-password', text: `Password (at least ${MIN_PASSWORD_CHARS} characters)` }), password),
    h('div', { class: 'field' }, h('label', { for: 'new-role', text: 'Role' }), role),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', text: 'Create user' })),
  );
  append(root, h('h1', { id: 'page-title', text: 'Users' }), status, table, h('h2', { text: 'Create a user' }), form, formStatus);

  let stopped = false;
  const load = async (): Promise<void> => {
    try {
      const { users } = await getJson<{ users: User[] }>('/api/users');
      if (stopped) return;
      clear(body);
      for (const u of users) {
        const action = h('button', {
          type: 'button',
          class: u.disabled ? 'secondary' : 'danger',
          text: u.disabled ? 'Enable' : 'Disable',
          'aria-label': `${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`,
          disabled: u.username === ctx.me.user,
          title: u.username === ctx.me.user ? 'You cannot disable yourself' : undefined,
        });
        action.addEventListener('click', () => {
          action.disabled = true;
          postJson<{ username: string; disabled: boolean }>(`/api/users/${encodeURIComponent(u.username)}/${u.disabled ? 'enable' : 'disable'}`)
            .then((r) => {
              setStatus(status, 'ok', `${r.username} is now ${r.disabled ? 'disabled' : 'enabled'}.`);
              return load();
            })
            .catch((error: unknown) => {
              setStatus(status, 'error', errorMessage(error));
              action.disabled = false;
            });
        });
        body.appendChild(
          h(
            'tr',
            { 'data-user': u.username },
            h('th', { scope: 'row', text: u.username }),
            h('td', {}, h('span', { class: `role-badge role-${u.role}`, text: u.role })),
            h('td', {}, h('span', { class: `pill ${u.disabled ? 'status-down' : 'status-ok'}`, text: u.disabled ? 'disabled' : 'active' })),
            h('td', { text: formatTime(u.created_ms) }),
            h('td', {}, action),
          ),
        );
      }
      if (status.textContent === 'Loading users…') setStatus(status, 'ok', `${users.length} users`);
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setStatus(formStatus, 'info', 'Creating…');
    postJson<User>('/api/users', { username: username.value.trim(), password: password.value, role: role.value })
      .then((u) => {
        setStatus(formStatus, 'ok', `Created ${u.username} (${u.role}).`);
        username.value = '';
        password.value = '';
        return load();
      })
      .catch((error: unknown) => setStatus(formStatus, 'error', errorMessage(error)));
  });
  void load();
  return () => {
    stopped = true;
  };
}
