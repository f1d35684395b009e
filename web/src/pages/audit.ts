// The audit log for the auditor (GET /api/audit/entries, paged by index), with each entry's
// inclusion proof against the latest signed checkpoint (GET /api/audit/proof). Every read is
// itself appended to the log (an audit_read entry), so the log grows as it is read.

import { errorMessage, getJson } from '../api';
import { AUDIT_PAGE_SIZES, auditPaging, parseIndex } from '../audit';
import type { PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import type { AuditEntries, AuditEntry } from '../types';

function detailsText(entry: AuditEntry): string {
  if (entry.details === undefined) return '';
  try {
    return JSON.stringify(entry.details);
  } catch {
    return String(entry.details);
  }
}

export function renderAudit(root: HTMLElement, _ctx: PageContext): () => void {
  const from = h('input', { name: 'from', inputmode: 'numeric', value: '0', size: 8, autocomplete: 'off' });
  const limit = h('select', { name: 'limit' }, ...AUDIT_PAGE_SIZES.map((n) => h('option', { value: n, text: String(n) })));
  limit.value = '50';
  from.id = 'au-from';
  limit.id = 'au-limit';
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Audit log range' },
    h('div', { class: 'field' }, h('label', { for: 'au-from', text: 'From entry' }), from),
    h('div', { class: 'field' }, h('label', { for: 'au-limit', text: 'Entries per page' }), limit),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', text: 'Show entries' })),
  );
  const status = statusLine('info');
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'data audit', 'aria-label': 'Audit log entries' },
    h('thead', {}, h('tr', {}, ...['#', 'Time (UTC)', 'Actor', 'Role', 'Action', 'Object', 'Legal basis', 'Result', 'Client', ''].map((t) => h('th', { scope: 'col', text: t })))),
    body,
  );
  const prev = h('button', { type: 'button', class: 'secondary', text: '← Previous', disabled: true });
  const next = h('button', { type: 'button', class: 'secondary', text: 'Next →', disabled: true });
  const newest = h('button', { type: 'button', class: 'secondary', text: 'Newest' });
  const pageText = h('span', { class: 'muted', 'aria-live': 'polite' });
  append(
    root,
    h('h1', { id: 'page-title', text: 'Audit log' }),
    h(
      'p',
      { class: 'notice' },
      'Every read of this log is itself recorded in it, with your name (an ',
      h('code', { text: 'audit_read' }),
      ' entry naming the range). Entries are append-only; nobody, administrators included, can change them.',
    ),
    form,
    status,
    h('div', { class: 'table-scroll' }, table),
    h('div', { class: 'pager' }, prev, pageText, next, newest),
  );

  let stopped = false;
  let size = 0;
  let shownFrom = 0;
  const load = async (start: number): Promise<void> => {
    const n = Number(limit.value);
    setStatus(status, 'info', 'Reading the log…');
    try {
      const page = await getJson<AuditEntries>('/api/audit/entries', { from: start, limit: n });
      if (stopped) return;
      size = page.size;
      shownFrom = start;
      from.value = String(start);
      clear(body);
      for (const { index, entry } of page.entries) body.appendChild(entryRow(index, entry));
      if (page.entries.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: 10, class: 'muted', text: 'No entries in this range.' })));
      const paging = auditPaging(start, n, page.entries.length, size);
      prev.disabled = paging.previous === null;
      next.disabled = paging.next === null;
      pageText.textContent = paging.text;
      setStatus(status, 'ok', `The log has ${size} entries (this read added one).`);
      root.setAttribute('data-size', String(size));
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };

  const entryRow = (index: number, entry: AuditEntry | null): HTMLTableRowElement => {
    const proofCell = h('td', { class: 'actions' });
    const proofButton = h('button', { type: 'button', class: 'secondary', text: 'Proof', 'aria-label': `Inclusion proof of entry ${index}`, 'aria-expanded': 'false' });
    proofCell.appendChild(proofButton);
    const row = h(
      'tr',
      { 'data-index': index },
      h('th', { scope: 'row', class: 'num', text: String(index) }),
      ...(entry
        ? [
            h('td', { class: 'small mono', text: entry.time }),
            h('td', { text: entry.actor }),
            h('td', { text: entry.role }),
            h('td', {}, entry.action, entry.purpose ? h('div', { class: 'muted small', text: entry.purpose }) : null),
            h('td', { class: 'small', text: entry.object, title: detailsText(entry) || undefined }),
            h('td', { class: 'small', text: entry.legal_basis || '–' }),
            h('td', {}, h('span', { class: `pill ${entry.result === 'ok' ? 'status-ok' : entry.result === 'denied' ? 'status-down' : 'status-stale'}`, text: entry.result })),
            h('td', { class: 'small', text: entry.client }),
          ]
        : [h('td', { colspan: 8, class: 'error-text', text: 'This entry is not readable JSON.' })]),
      proofCell,
    );
    let proofRow: HTMLTableRowElement | null = null;
    proofButton.addEventListener('click', () => {
      if (proofRow) {
        proofRow.remove();
        proofRow = null;
        proofButton.setAttribute('aria-expanded', 'false');
        return;
      }
      const out = h('td', { colspan: 10 });
      const line = statusLine('info', `Fetching the inclusion proof of entry ${index}…`);
      out.appendChild(line);
      proofRow = h('tr', { class: 'proof-row' }, out);
      row.after(proofRow);
      proofButton.setAttribute('aria-expanded', 'true');
      getJson<unknown>('/api/audit/proof', { index })
        .then((proof) => {
          setStatus(line, 'ok', `Inclusion proof of entry ${index} against the latest signed checkpoint (verify it with tools/verify_inclusion.go, docs/audit.md):`);
          out.appendChild(h('pre', { class: 'note proof', tabindex: 0, 'aria-label': `Inclusion proof of entry ${index}`, text: JSON.stringify(proof, null, 2) }));
        })
        .catch((error: unknown) => setStatus(line, 'error', errorMessage(error)));
    });
    return row;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const start = parseIndex(from.value);
    if (start === null) {
      setStatus(status, 'error', 'Give the first entry as a whole number from 0.');
      return;
    }
    void load(start);
  });
  prev.addEventListener('click', () => void load(auditPaging(shownFrom, Number(limit.value), 0, size).previous ?? 0));
  next.addEventListener('click', () => void load(shownFrom + Number(limit.value)));
  newest.addEventListener('click', () => void load(auditPaging(0, Number(limit.value), 0, size + 1).newest));
  void load(0);
  return () => {
    stopped = true;
  };
}
