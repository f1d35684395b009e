// Licence plates (docs/plates.md, docs/api.md "Plates"): read queries, each with a case
// reference and a legal basis and recorded in the audit log before any result is shown; the
// hotlist (propose, four-eyes approval, withdraw); its hits, leads a person verifies against
// the crop (confirm or reject). One tab per part, shown by permission (plates.ts plateTabs).

import { errorMessage, getJson, postJson } from '../api';
import { RANGES } from '../chart';
import { loadCameras, loadHealth, poll, type Cleanup, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { formatTime, fromLocalInput, toLocalInput } from '../format';
import { askReason, field } from '../forms';
import { may } from '../nav';
import {
  candidatesText,
  CONFUSION_CHOICES,
  cropUrl,
  describePattern,
  HIT_STATUS_TEXT,
  HOTLIST_DEFAULT_DAYS,
  HOTLIST_MAX_DAYS,
  hitActions,
  hotlistActions,
  hotlistBody,
  LOOK_ALIKES,
  PLATE_TABS,
  plateQuery,
  platePattern,
  plateTabs,
  readerSummary,
  type HotlistEntry,
  type PlateHit,
  type PlateQueryAnswer,
  type PlateTab,
} from '../plates';
import { basesCovering, basisOptionText } from '../policy';
import type { Camera, LegalBasis, PolicyRecords } from '../types';

const QUERY_LIMIT = 200;

function tableOf(label: string, headings: readonly string[], body: HTMLTableSectionElement): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h('table', { class: 'data', 'aria-label': label }, h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col', text: t })))), body),
  );
}

function cameraSelect(names: Map<string, string>, onLoaded: () => void, status: HTMLElement): HTMLSelectElement {
  const select = h('select', { name: 'camera' }, h('option', { value: '', text: 'All cameras' }));
  void loadCameras()
    .then((cameras: Camera[]) => {
      for (const c of cameras) {
        names.set(c.id, c.name);
        select.appendChild(h('option', { value: c.id, text: c.name }));
      }
      onLoaded();
    })
    .catch((error: unknown) => setStatus(status, 'error', `Cannot load cameras: ${errorMessage(error)}`));
  return select;
}

/** A select of the legal bases in force that cover `act` (GET /api/policy). */
function basisPicker(status: HTMLElement, act: 'plate_query' | 'plate_hotlist'): { select: HTMLSelectElement; selected: () => LegalBasis | null } {
  const select = h('select', { name: 'legal_basis', 'aria-required': 'true' }, h('option', { value: '', text: 'Loading legal bases…' }));
  let bases: LegalBasis[] = [];
  void getJson<PolicyRecords>('/api/policy')
    .then((records) => {
      bases = basesCovering(records.legal_bases, act, Date.now());
      clear(select);
      select.appendChild(h('option', { value: '', text: bases.length ? 'Choose a legal basis…' : `No legal basis in force covers ${act === 'plate_query' ? 'plate queries' : 'plate hotlists'}` }));
      for (const b of bases) select.appendChild(h('option', { value: b.reference, text: basisOptionText(b) }));
    })
    .catch((error: unknown) => {
      clear(select);
      select.appendChild(h('option', { value: '', text: 'Legal bases could not be listed' }));
      setStatus(status, 'error', `Cannot list the legal bases: ${errorMessage(error)}`);
    });
  return { select, selected: () => bases.find((b) => b.reference === select.value) ?? null };
}

function confusionSelect(initial: number): HTMLSelectElement {
  const select = h('select', { name: 'max_confusions' }, ...CONFUSION_CHOICES.map(([n, text]) => h('option', { value: n, text })));
  select.value = String(initial);
  return select;
}

const LOOK_ALIKE_HINT = `Look-alike characters: ${LOOK_ALIKES.join(', ')}.`;

export function renderPlates(root: HTMLElement, ctx: PageContext): Cleanup {
  const { tabs, current } = plateTabs(ctx.me, new URLSearchParams(window.location.search).get('tab'));
  const tabBar = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Plate sections' },
    ...PLATE_TABS.filter((t) => tabs.includes(t.id)).map((t) =>
      h('a', { href: `/plates?tab=${t.id}`, text: t.title, 'aria-current': t.id === current ? 'page' : undefined }),
    ),
  );
  const panel = h('div', { class: 'tab-panel' });
  append(root, h('h1', { id: 'page-title', text: 'Licence plates' }), tabBar, panel);
  root.setAttribute('data-tab', current ?? '');
  const renderers: Record<PlateTab, (panel: HTMLElement, ctx: PageContext) => Cleanup> = { query: renderQuery, hotlist: renderHotlist, hits: renderHits };
  return current ? renderers[current](panel, ctx) : () => undefined;
}

// ---- Query reads ----
function renderQuery(root: HTMLElement, _ctx: PageContext): Cleanup {
  const status = statusLine('info');
  status.id = 'query-status';
  const names = new Map<string, string>();
  const caseRef = h('input', { name: 'case', autocomplete: 'off', maxlength: 200, 'aria-required': 'true', placeholder: 'e.g. 2026/0412-theft', class: 'wide' });
  const picker = basisPicker(status, 'plate_query');
  const plate = h('input', { name: 'plate', autocomplete: 'off', spellcheck: 'false', maxlength: 24, placeholder: 'e.g. B?X48*', class: 'mono' });
  const plateHelp = h('span', { class: 'hint', 'aria-live': 'polite', text: describePattern('') });
  const camera = cameraSelect(names, () => undefined, status);
  const from = h('input', { name: 'from', type: 'datetime-local', step: 1, value: toLocalInput(Date.now() - 24 * 3600_000) });
  const to = h('input', { name: 'to', type: 'datetime-local', step: 1 });
  const confusions = confusionSelect(0);
  const submit = h('button', { type: 'submit', text: 'Query reads' });
  plate.addEventListener('input', () => {
    const checked = platePattern(plate.value);
    plateHelp.className = 'error' in checked ? 'hint error-text' : 'hint';
    plateHelp.textContent = 'error' in checked ? checked.error : describePattern(checked.pattern);
  });
  const plateField = field('pq-plate', 'Plate (? one unknown character, * any run)', plate);
  plateField.appendChild(plateHelp);
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Plate query', novalidate: true },
    field('pq-case', 'Case reference', caseRef, 'The case this query is for; recorded with it.'),
    field('pq-basis', 'Legal basis', picker.select, 'In force and covering plate queries.'),
    plateField,
    field('pq-camera', 'Camera', camera),
    field('pq-from', 'From', from),
    field('pq-to', 'To (empty: now)', to),
    field('pq-confusions', 'Max confusions', confusions, LOOK_ALIKE_HINT),
    h('div', { class: 'field actions' }, submit),
  );
  const body = h('tbody');
  append(
    root,
    h('p', { class: 'notice audit-notice' }, h('strong', { text: 'Recorded in the audit log. ' }), 'Every query — with your name, the case reference, the legal basis and the search terms — is written to the tamper-evident audit log before any result is shown, and so is every crop you open. Query only for the case you name.'),
    form,
    status,
    tableOf('Plate reads', ['Crop', 'Time', 'Camera', 'Plate', 'Confidence', 'Other readings', 'Vehicle'], body),
  );

  let stopped = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const basis = picker.selected();
    const q = plateQuery({
      caseRef: caseRef.value,
      legalBasis: picker.select.value,
      basisCameras: basis?.scope.cameras ?? [],
      plate: plate.value,
      camera: camera.value,
      fromMs: fromLocalInput(from.value),
      toMs: fromLocalInput(to.value),
      maxConfusions: Number(confusions.value),
      limit: QUERY_LIMIT,
    });
    if ('error' in q) {
      setStatus(status, 'error', q.error);
      return;
    }
    submit.disabled = true;
    setStatus(status, 'info', 'Querying (recorded in the audit log)…');
    void getJson<PlateQueryAnswer>('/api/plates/reads', q.params)
      .then((answer) => {
        if (stopped) return;
        clear(body);
        for (const r of answer.reads) {
          const cameraName = names.get(r.camera) ?? r.camera;
          body.appendChild(
            h(
              'tr',
              { 'data-read': r.id },
              h('td', {}, h('img', { class: 'plate-crop', src: cropUrl(r.crop, answer.case, answer.legal_basis), alt: `Plate crop of read ${r.id}`, loading: 'lazy' })),
              h('td', {}, h('time', { datetime: new Date(r.time_ms).toISOString(), text: formatTime(r.time_ms) })),
              h('td', { text: cameraName }),
              h('th', { scope: 'row', class: 'plate', text: r.plate }),
              h('td', { class: 'num', text: r.confidence.toFixed(2) }),
              h('td', { class: 'mono small', text: candidatesText(r) }),
              h('td', { class: 'small', text: `${r.label} · track ${r.track_id} · ${r.frames} frames` }),
            ),
          );
        }
        if (answer.reads.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: 7, class: 'muted', text: 'No read matches.' })));
        setStatus(
          status,
          'ok',
          `Query ${answer.query_id} for case ${answer.case} under legal basis ${answer.legal_basis}: ${answer.count} reads${answer.truncated ? `, of which the first ${answer.reads.length} are shown — narrow the query` : ''}. Recorded in the audit log.`,
        );
      })
      .catch((error: unknown) => setStatus(status, 'error', errorMessage(error)))
      .finally(() => {
        submit.disabled = false;
      });
  });
  return () => {
    stopped = true;
  };
}

// ---- Hotlist ----
function renderHotlist(root: HTMLElement, ctx: PageContext): Cleanup {
  const status = statusLine('info', 'Loading the hotlist…');
  status.id = 'hotlist-status';
  const body = h('tbody');
  append(
    root,
    h('p', {
      class: 'muted',
      text: `A hotlist entry raises a hit when a plate read matches it (allowing its number of look-alike characters). It becomes active only when a different supervisor approves it, and stops at its expiry (default ${HOTLIST_DEFAULT_DAYS} days, at most ${HOTLIST_MAX_DAYS} and never past its legal basis) or when withdrawn.`,
    }),
    status,
    tableOf('Plate hotlist', ['Plate', 'Label', 'Status', 'Look-alikes', 'Legal basis', 'Expires', 'Proposed by', 'Decided by', ''], body),
  );
  let stopped = false;

  const load = async (): Promise<void> => {
    try {
      const { entries } = await getJson<{ entries: HotlistEntry[] }>('/api/plates/hotlist');
      if (stopped) return;
      clear(body);
      for (const e of entries) body.appendChild(row(e));
      if (entries.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: 9, class: 'muted', text: 'The hotlist is empty.' })));
      setStatus(status, 'ok', `${entries.length} entries, ${entries.filter((e) => e.status === 'active').length} active, ${entries.filter((e) => e.status === 'pending').length} pending`);
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };

  const row = (e: HotlistEntry): HTMLTableRowElement => {
    const actions = hotlistActions(ctx.me, e);
    const cell = h('td', { class: 'actions' });
    const post = (verb: string, done: string, body?: Record<string, string>): Promise<void> =>
      postJson<HotlistEntry>(`/api/plates/hotlist/${encodeURIComponent(e.id)}/${verb}`, body).then(async () => {
        setStatus(status, 'ok', `${done}: ${e.plate} (${e.label}).`);
        await load();
      });
    if (actions.decide) {
      const approve = h('button', { type: 'button', text: 'Approve', 'aria-label': `Approve ${e.plate}` });
      const reject = h('button', { type: 'button', class: 'danger', text: 'Reject', 'aria-label': `Reject ${e.plate}` });
      if (!actions.decide.offer) {
        approve.disabled = true;
        reject.disabled = true;
        approve.title = actions.decide.why;
        reject.title = actions.decide.why;
      }
      approve.addEventListener('click', () => {
        approve.disabled = true;
        setStatus(status, 'info', 'Approving…');
        post('approve', 'Approved').catch((error: unknown) => {
          setStatus(status, 'error', errorMessage(error));
          approve.disabled = false;
        });
      });
      reject.addEventListener('click', () => askReason(cell, `rejecting ${e.plate}`, 'Reject', status, (reason) => post('reject', 'Rejected', { reason })));
      append(cell, approve, ' ', reject, actions.decide.offer ? null : h('div', { class: 'hint', text: actions.decide.why }));
    }
    if (actions.withdraw) {
      const withdraw = h('button', { type: 'button', class: 'secondary', text: 'Withdraw', 'aria-label': `Withdraw ${e.plate}` });
      withdraw.addEventListener('click', () => askReason(cell, `withdrawing ${e.plate}`, 'Withdraw', status, (reason) => post('withdraw', 'Withdrawn', { reason })));
      append(cell, ' ', withdraw);
    }
    const decided = e.decided_by ? h('span', {}, e.decided_by, h('div', { class: 'muted small', text: formatTime(e.decided_ms) })) : h('span', { class: 'muted', text: '–' });
    return h(
      'tr',
      { 'data-entry': e.id, 'data-plate': e.plate, 'data-status': e.status },
      h('th', { scope: 'row', class: 'plate', text: e.plate }),
      h('td', {}, e.label, e.reason ? h('div', { class: 'muted small', text: e.reason }) : null),
      h('td', {}, h('span', { class: `pill entry-status-${e.status}`, text: e.status })),
      h('td', { class: 'num', text: String(e.max_confusions) }),
      h('td', { class: 'nowrap', text: e.legal_basis_ref }),
      h('td', { class: 'small', text: formatTime(e.expires_ms) }),
      h('td', {}, e.proposed_by, h('div', { class: 'muted small', text: formatTime(e.proposed_ms) })),
      h('td', {}, decided),
      cell,
    );
  };

  if (may(ctx.me, 'plate_query')) {
    const formStatus = statusLine('info');
    formStatus.id = 'propose-status';
    const plate = h('input', { name: 'plate', autocomplete: 'off', spellcheck: 'false', maxlength: 16, class: 'mono', 'aria-required': 'true' });
    const label = h('input', { name: 'label', maxlength: 200, 'aria-required': 'true', placeholder: 'e.g. stolen van, case 2026/77' });
    const picker = basisPicker(formStatus, 'plate_hotlist');
    const reason = h('textarea', { name: 'reason', rows: 2, 'aria-required': 'true' });
    const expires = h('input', { name: 'expires', type: 'datetime-local', step: 60 });
    const confusions = confusionSelect(1);
    const submit = h('button', { type: 'submit', text: 'Propose entry' });
    const form = h(
      'form',
      { class: 'filters propose', 'aria-label': 'Propose a hotlist entry', novalidate: true },
      field('hl-plate', 'Plate (whole, no wildcards)', plate),
      field('hl-label', 'Label (how the hit is shown)', label),
      field('hl-basis', 'Legal basis', picker.select),
      field('hl-expires', `Expires (empty: ${HOTLIST_DEFAULT_DAYS} days)`, expires, `At most ${HOTLIST_MAX_DAYS} days and not past the legal basis.`),
      field('hl-confusions', 'Max confusions', confusions, LOOK_ALIKE_HINT),
      field('hl-reason', 'Reason, for the deciding supervisor', reason),
      h('div', { class: 'field actions' }, submit),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const checked = hotlistBody({
        plate: plate.value,
        label: label.value,
        reason: reason.value,
        legalBasis: picker.select.value,
        basisExpiresMs: picker.selected()?.expires_ms ?? null,
        expiresMs: fromLocalInput(expires.value),
        maxConfusions: Number(confusions.value),
        nowMs: Date.now(),
      });
      if ('error' in checked) {
        setStatus(formStatus, 'error', checked.error);
        return;
      }
      submit.disabled = true;
      setStatus(formStatus, 'info', 'Proposing…');
      postJson<HotlistEntry>('/api/plates/hotlist', checked.body)
        .then(async (entry) => {
          setStatus(formStatus, 'ok', `Proposed ${entry.plate} ("${entry.label}"): pending until a different supervisor approves it.`);
          form.reset();
          confusions.value = '1';
          await load();
        })
        .catch((error: unknown) => setStatus(formStatus, 'error', errorMessage(error)))
        .finally(() => {
          submit.disabled = false;
        });
    });
    append(root, h('h2', { text: 'Propose an entry' }), form, formStatus);
  }

  void load();
  return () => {
    stopped = true;
  };
}

// ---- Hits ----
function renderHits(root: HTMLElement, ctx: PageContext): Cleanup {
  const status = statusLine('info');
  status.id = 'hits-status';
  const count = h('p', { class: 'muted', text: 'Loading hits…' });
  const reader = h('p', { class: 'muted small', id: 'plate-reader' });
  let loadFailed = false;
  const names = new Map<string, string>();
  const statusFilter = h(
    'select',
    { name: 'status' },
    h('option', { value: 'lead', text: 'Open leads' }),
    h('option', { value: 'confirmed', text: 'Confirmed' }),
    h('option', { value: 'rejected', text: 'Rejected' }),
    h('option', { value: '', text: 'All' }),
  );
  const range = h('select', { name: 'range' }, ...RANGES.map(([s, t]) => h('option', { value: s, text: t })));
  range.value = String(7 * 24 * 3600);
  const list = h('ol', { class: 'alerts hits', 'aria-label': 'Plate hits, newest first' });
  let stopped = false;

  const decide = (hit: PlateHit, cell: HTMLElement, confirm: HTMLButtonElement, reject: HTMLButtonElement): void => {
    confirm.addEventListener('click', () => {
      confirm.disabled = true;
      postJson<PlateHit>(`/api/plates/hits/${encodeURIComponent(hit.id)}/confirm`, {})
        .then(async () => {
          setStatus(status, 'ok', `Confirmed: ${hit.plate} is ${hit.entry_plate} (${hit.entry_label}).`);
          await load(true);
        })
        .catch((error: unknown) => {
          setStatus(status, 'error', errorMessage(error));
          confirm.disabled = false;
        });
    });
    reject.addEventListener('click', () =>
      askReason(cell, `rejecting the hit on ${hit.plate}`, 'Reject', status, async (reason) => {
        await postJson<PlateHit>(`/api/plates/hits/${encodeURIComponent(hit.id)}/reject`, { reason });
        setStatus(status, 'ok', `Rejected as a false hit: ${hit.plate}.`);
        await load(true);
      }),
    );
  };

  const item = (hit: PlateHit): HTMLLIElement => {
    const actions = hitActions(ctx.me, hit);
    const cell = h('div', { class: 'inline-action' });
    if (actions.confirm) {
      const confirm = h('button', { type: 'button', text: 'Confirm', 'aria-label': `Confirm the hit on ${hit.plate}: the crop shows ${hit.entry_plate}` });
      const reject = h('button', { type: 'button', class: 'danger', text: 'Reject', 'aria-label': `Reject the hit on ${hit.plate}` });
      append(cell, confirm, reject);
      decide(hit, cell, confirm, reject);
    }
    const look = hit.distance === 0 ? 'same characters' : `${hit.distance} look-alike character${hit.distance === 1 ? ' differs' : 's differ'}`;
    return h(
      'li',
      { class: `alert type-plate_hit hit-${hit.status}`, 'data-hit': hit.id, 'data-status': hit.status },
      h('img', { class: 'snapshot plate-crop-large', src: hit.crop, alt: `Plate crop of the hit at ${names.get(hit.camera) ?? hit.camera}`, loading: 'lazy' }),
      h(
        'div',
        { class: 'alert-body' },
        h('div', { class: 'alert-title' }, h('strong', { text: `Hotlist: ${hit.entry_label} ` }), h('span', { class: hit.status === 'lead' ? 'type-tag lead' : 'type-tag', text: HIT_STATUS_TEXT[hit.status] })),
        h('div', { class: 'alert-meta' }, h('time', { datetime: new Date(hit.time_ms).toISOString(), text: formatTime(hit.time_ms) }), ` · ${names.get(hit.camera) ?? hit.camera}`),
        h('div', {}, 'read ', h('span', { class: 'plate', text: hit.plate }), ' · entry ', h('span', { class: 'plate', text: hit.entry_plate }), ` · ${look} · confidence ${hit.confidence.toFixed(2)}`),
        hit.decided_by ? h('div', { class: 'muted small', text: `${hit.status} by ${hit.decided_by}` }) : null,
        cell,
      ),
    );
  };

  /** `force`: after a decision; a poll leaves the list alone while a reason is being typed. */
  const load = async (force = false): Promise<void> => {
    try {
      const to = Date.now();
      const { hits } = await getJson<{ hits: PlateHit[] }>('/api/plates/hits', { status: statusFilter.value, camera: camera.value, from: to - Number(range.value) * 1000, to });
      if (stopped) return;
      // Someone typing a rejection reason keeps their form: the list waits for the next poll.
      if (!force && list.querySelector('form.reason-form')) return;
      clear(list);
      for (const hit of hits) list.appendChild(item(hit));
      if (hits.length === 0) list.appendChild(h('li', { class: 'muted', text: 'No hits match.' }));
      count.textContent = `${hits.length} hits, ${hits.filter((x) => x.status === 'lead').length} to verify (refreshed every 10 s)`;
      // The reader's counters are for the operator's trust in the list; they may be missing.
      const health = await loadHealth().catch(() => null);
      if (health && !stopped) {
        const summary = readerSummary(health.plates);
        reader.textContent = summary.text;
        reader.className = summary.warn ? 'status-line warn small' : 'muted small';
      }
      if (loadFailed) setStatus(status, 'info', '');
      loadFailed = false;
    } catch (error) {
      loadFailed = true;
      setStatus(status, 'error', errorMessage(error));
    }
  };

  const camera = cameraSelect(names, () => void load(true), status);
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Hit filters' },
    field('hit-status', 'Status', statusFilter),
    field('hit-camera', 'Camera', camera),
    field('hit-range', 'Range', range),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', text: 'Show' })),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    count.textContent = 'Loading hits…';
    void load(true);
  });
  append(
    root,
    h('p', { class: 'notice' }, h('strong', { text: 'A hit is a lead, never a finding. ' }), 'Readers misread characters, look-alike characters are allowed, and plates can be cloned: compare the crop with the entry before anyone acts, then confirm it or reject it with a reason. Both are recorded.'),
    form,
    status,
    count,
    reader,
    list,
  );
  const stop = poll(() => load(), 10_000);
  return () => {
    stopped = true;
    stop();
  };
}
