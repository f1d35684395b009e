// The watchlist (propose with photos, approve by a second supervisor, reject, withdraw) and the
// face matches (leads a person must verify: confirm or reject). docs/face.md, docs/api.md.

import { errorMessage, getJson, postJson } from '../api';
import type { PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { formatTime, fromLocalInput } from '../format';
import { may } from '../nav';
import {
  base64Of,
  CATEGORIES,
  entryActions,
  matchActions,
  proposalBody,
  type FaceMatch,
  type WatchlistEntry,
} from '../watchlist';

const MAX_PHOTOS = 10;

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(base64Of(String(reader.result)));
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
}

export function renderWatchlist(root: HTMLElement, ctx: PageContext): () => void {
  const status = statusLine('info', 'Loading the watchlist…');
  const actionStatus = h('p', { class: 'status', role: 'alert' });
  actionStatus.hidden = true;
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'data', 'aria-label': 'Watchlist entries' },
    h('thead', {}, h('tr', {}, ...['Label', 'Category', 'Status', 'Legal basis', 'Expires', 'Proposed by', 'Decided by', 'Photos', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
    body,
  );
  append(
    root,
    h('h1', { id: 'page-title', text: 'Watchlist' }),
    h('p', {
      class: 'muted',
      text: 'Faces are compared only with active entries, only on cameras and at times covered by a face-recognition authorisation, never at protected assemblies. An entry becomes active when a second supervisor approves it and stops matching when it expires or is withdrawn. Only enrolment descriptors are kept (encrypted); the photos are not stored.',
    }),
    status,
    actionStatus,
    table,
  );

  let stopped = false;
  const act = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
      actionStatus.hidden = false;
      actionStatus.className = 'status ok';
      actionStatus.textContent = what;
      await load();
    } catch (error) {
      actionStatus.hidden = false;
      actionStatus.className = 'status error';
      actionStatus.textContent = errorMessage(error);
    }
  };

  const reasonButton = (text: string, entry: WatchlistEntry, path: string): HTMLElement => {
    const reason = h('input', { type: 'text', placeholder: 'reason', 'aria-label': `Reason to ${text.toLowerCase()} ${entry.label}` });
    const button = h('button', {
      type: 'button',
      class: 'secondary',
      text,
      on: {
        click: () => {
          if (!reason.value.trim()) {
            reason.focus();
            return;
          }
          void act(`${text}: ${entry.label}`, () => postJson(`/api/watchlist/${entry.id}/${path}`, { reason: reason.value.trim() }));
        },
      },
    });
    return h('span', { class: 'inline-action' }, reason, button);
  };

  const load = async (): Promise<void> => {
    try {
      const { entries } = await getJson<{ entries: WatchlistEntry[] }>('/api/watchlist');
      if (stopped) return;
      clear(body);
      for (const e of entries) {
        const actions = entryActions(ctx.me, e);
        body.appendChild(
          h(
            'tr',
            { 'data-entry': e.id, class: `entry-${e.status}` },
            h('th', { scope: 'row', text: e.label }),
            h('td', { text: CATEGORIES.find((c) => c.id === e.category)?.text ?? e.category }),
            h('td', {}, h('span', { class: `pill entry-status-${e.status}`, text: e.status })),
            h('td', { text: e.legal_basis_ref }),
            h('td', { text: formatTime(e.expires_ms) }),
            h('td', { text: e.proposed_by }),
            h('td', { text: e.decided_by || '—' }),
            h('td', { class: 'num', text: String(e.embeddings) }),
            h(
              'td',
              { class: 'actions' },
              actions.approve ? h('button', { type: 'button', text: 'Approve', on: { click: () => void act(`Approved: ${e.label}`, () => postJson(`/api/watchlist/${e.id}/approve`)) } }) : null,
              actions.reject ? reasonButton('Reject', e, 'reject') : null,
              actions.withdraw ? reasonButton('Withdraw', e, 'withdraw') : null,
            ),
          ),
        );
      }
      setStatus(status, 'ok', `${entries.length} entries, ${entries.filter((e) => e.status === 'active').length} active`);
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };

  if (may(ctx.me, 'propose_watchlist')) {
    const label = h('input', { name: 'label', required: true, maxlength: 200 });
    const category = h('select', { name: 'category', required: true }, ...CATEGORIES.map((c) => h('option', { value: c.id, text: c.text })));
    const legalBasis = h('input', { name: 'legal_basis_ref', required: true, placeholder: 'reference of a legal basis in force' });
    const expires = h('input', { name: 'expires', type: 'datetime-local', step: 60 });
    const reason = h('textarea', { name: 'reason', required: true, rows: 2 });
    const photos = h('input', { name: 'photos', type: 'file', accept: 'image/jpeg,image/png', multiple: true, required: true });
    const formStatus = h('p', { class: 'status', role: 'alert' });
    formStatus.hidden = true;
    const form = h(
      'form',
      { class: 'filters propose', 'aria-label': 'Propose a watchlist entry' },
      field('wl-label', 'Label (how the entry is shown)', label),
      field('wl-category', 'Category', category),
      field('wl-basis', 'Legal basis', legalBasis),
      field('wl-expires', 'Expires (default 30 days)', expires),
      field('wl-reason', 'Reason, for the approving supervisor', reason),
      field('wl-photos', `Enrolment photos (1 to ${MAX_PHOTOS}, one face each)`, photos),
      h('div', { class: 'field actions' }, h('button', { type: 'submit', text: 'Propose entry' })),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const files = Array.from(photos.files ?? []);
      const show = (kind: 'ok' | 'error', text: string): void => {
        formStatus.hidden = false;
        formStatus.className = `status ${kind}`;
        formStatus.textContent = text;
      };
      if (files.length === 0 || files.length > MAX_PHOTOS) {
        show('error', `Choose 1 to ${MAX_PHOTOS} photos.`);
        return;
      }
      void (async () => {
        try {
          const encoded = await Promise.all(files.map(readAsBase64));
          const body = proposalBody({
            label: label.value,
            category: category.value,
            legalBasis: legalBasis.value,
            reason: reason.value,
            expiresMs: expires.value ? fromLocalInput(expires.value) : null,
            photos: encoded,
          });
          const entry = await postJson<WatchlistEntry>('/api/watchlist', body);
          show('ok', `Proposed "${entry.label}": pending until a different supervisor approves it (request ${entry.approval_id}).`);
          form.reset();
          await load();
        } catch (error) {
          show('error', errorMessage(error));
        }
      })();
    });
    append(root, h('h2', { text: 'Propose an entry' }), form, formStatus);
  }

  void load();
  return () => {
    stopped = true;
  };
}

export function renderMatches(root: HTMLElement, ctx: PageContext): () => void {
  const status = statusLine('info', 'Loading face matches…');
  const list = h('ol', { class: 'alerts matches', 'aria-label': 'Face matches, newest first' });
  const actionStatus = h('p', { class: 'status', role: 'alert' });
  actionStatus.hidden = true;
  append(
    root,
    h('h1', { id: 'page-title', text: 'Face matches' }),
    h('p', { class: 'muted', text: 'A match is a lead, never a decision: compare the crop with the entry, then confirm or reject it. Both count in the public statistics.' }),
    status,
    actionStatus,
    list,
  );
  let stopped = false;
  const load = async (): Promise<void> => {
    try {
      const { matches } = await getJson<{ matches: FaceMatch[] }>('/api/matches', { limit: 100 });
      if (stopped) return;
      clear(list);
      for (const m of matches) {
        const actions = matchActions(ctx.me, m);
        const note = h('input', { type: 'text', placeholder: 'note or reason', 'aria-label': `Note on the match of ${m.label}` });
        const decide = (verb: 'confirm' | 'reject'): void => {
          const text = note.value.trim();
          if (verb === 'reject' && !text) {
            note.focus();
            return;
          }
          void postJson(`/api/matches/${m.id}/${verb}`, verb === 'confirm' ? { note: text } : { reason: text })
            .then(() => load())
            .catch((error: unknown) => {
              actionStatus.hidden = false;
              actionStatus.className = 'status error';
              actionStatus.textContent = errorMessage(error);
            });
        };
        list.appendChild(
          h(
            'li',
            { class: `alert match-${m.status}`, 'data-match': m.id },
            h('img', { class: 'snapshot', src: m.crop, alt: `Face seen at ${m.camera}`, loading: 'lazy' }),
            h(
              'div',
              { class: 'alert-body' },
              h('div', { class: 'alert-title' }, h('strong', { text: m.label }), ' ', h('span', { class: 'type-tag', text: m.status === 'lead' ? 'lead — verify' : m.status })),
              h('div', { class: 'alert-meta' }, h('time', { datetime: new Date(m.time_ms).toISOString(), text: formatTime(m.time_ms) }), ` · ${m.camera} · score ${m.score.toFixed(3)} · ${m.attempts} attempts`),
              m.decided_by ? h('div', { class: 'muted small', text: `${m.status} by ${m.decided_by}${m.note ? `: ${m.note}` : ''}` }) : null,
              actions.confirm
                ? h(
                    'div',
                    { class: 'inline-action' },
                    note,
                    h('button', { type: 'button', text: 'Confirm', on: { click: () => decide('confirm') } }),
                    h('button', { type: 'button', class: 'secondary', text: 'Reject', on: { click: () => decide('reject') } }),
                  )
                : null,
            ),
          ),
        );
      }
      setStatus(status, 'ok', matches.length === 0 ? 'No face matches.' : `${matches.length} matches, ${matches.filter((m) => m.status === 'lead').length} to verify`);
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };
  void load();
  const timer = window.setInterval(() => void load(), 10_000);
  return () => {
    stopped = true;
    window.clearInterval(timer);
  };
}
