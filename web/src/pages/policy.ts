// Policy records (GET /api/policy): legal bases, face-recognition authorisations, protected
// assemblies, four-eyes approval requests and evidence holds, with the actions the user's
// permissions allow. The policy engine decides; a refusal's message is shown as the server
// wrote it.

import { errorMessage, getJson, postJson } from '../api';
import { loadCameras, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { formatTime, fromLocalInput, toLocalInput } from '../format';
import { askReason, field } from '../forms';
import {
  ACTS,
  actText,
  APPROVAL_KINDS,
  approvalStatus,
  assemblyBody,
  assemblyStatus,
  ASSEMBLY_KINDS,
  basesInForce,
  decideOffer,
  faceAuthorisationBody,
  faceAuthorisationStatus,
  FACE_PURPOSES,
  holdStatus,
  kindText,
  legalBasisBody,
  LEGAL_BASIS_TYPES,
  legalBasisStatus,
  policyActions,
  RECORD_STATUS_TEXT,
  shortList,
  statusClass,
  unusedFaceApprovals,
  type RecordStatus,
} from '../policy';
import type { ApprovalRequest, Camera, PolicyRecords } from '../types';

const DAY_MS = 24 * 3600_000;

function table(label: string, headings: readonly string[], body: HTMLTableSectionElement): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h('table', { class: 'data policy-table', 'aria-label': label }, h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col', text: t })))), body),
  );
}

function pill(status: RecordStatus | ApprovalRequest['status'] | 'held' | 'released', text?: string): HTMLElement {
  return h('span', { class: `pill ${statusClass(status)}`, text: text ?? (status in RECORD_STATUS_TEXT ? RECORD_STATUS_TEXT[status as RecordStatus] : status) });
}

function emptyRow(body: HTMLTableSectionElement, columns: number, text: string): void {
  body.appendChild(h('tr', {}, h('td', { colspan: columns, class: 'muted', text })));
}

function window_(start: number, end: number): string {
  return `${formatTime(start)} – ${formatTime(end)}`;
}

function checkboxGroup(legend: string, name: string, items: readonly (readonly [string, string])[], hint: string): { box: HTMLFieldSetElement; values: () => string[]; reset: () => void } {
  const inputs = items.map(([value]) => h('input', { type: 'checkbox', name, value, id: `${name}-${value}` }));
  const box = h(
    'fieldset',
    { class: 'checks' },
    h('legend', { text: legend }),
    ...items.map(([value, text], i) => h('label', { class: 'check', for: `${name}-${value}` }, inputs[i] ?? null, ` ${text}`)),
    h('span', { class: 'hint', text: hint }),
  );
  return {
    box,
    values: () => inputs.filter((i) => i.checked).map((i) => i.value),
    reset: () => inputs.forEach((i) => (i.checked = false)),
  };
}

export function renderPolicy(root: HTMLElement, ctx: PageContext): () => void {
  const actions = policyActions(ctx.me);
  let stopped = false;
  let records: PolicyRecords | null = null;
  let cameras: Camera[] = [];
  const cameraName = (id: string): string => cameras.find((c) => c.id === id)?.name ?? id;

  const loadStatus = statusLine('info', 'Loading policy records…');
  const approvalsStatus = statusLine('info');
  const basesStatus = statusLine('info');
  const facesStatus = statusLine('info');
  const assembliesStatus = statusLine('info');
  const holdsStatus = statusLine('info');
  approvalsStatus.id = 'approvals-status';
  basesStatus.id = 'bases-status';

  const approvalsBody = h('tbody');
  const basesBody = h('tbody');
  const facesBody = h('tbody');
  const assembliesBody = h('tbody');
  const holdsBody = h('tbody');

  const button = (text: string, label: string, kind: 'danger' | 'secondary' | '' = 'secondary'): HTMLButtonElement =>
    h('button', { type: 'button', ...(kind ? { class: kind } : {}), text, 'aria-label': label });

  // ---- Tables ----
  const renderApprovals = (r: PolicyRecords, now: number): void => {
    clear(approvalsBody);
    const sorted = [...r.approvals].sort((a, b) => b.created_ms - a.created_ms);
    if (sorted.length === 0) emptyRow(approvalsBody, 9, 'No approval requests.');
    for (const a of sorted) {
      const status = approvalStatus(a, now);
      const cell = h('td', { class: 'actions' });
      const offer = decideOffer(ctx.me, a, now);
      if (offer) {
        const approve = button('Approve', `Approve request ${a.id} (${kindText(a.kind)} ${a.object_id})`, '');
        const reject = button('Reject', `Reject request ${a.id} (${kindText(a.kind)} ${a.object_id})`, 'danger');
        if (!offer.offer) {
          approve.disabled = true;
          reject.disabled = true;
          approve.title = offer.why;
          reject.title = offer.why;
        }
        approve.addEventListener('click', () => {
          approve.disabled = true;
          setStatus(approvalsStatus, 'info', 'Approving…');
          postJson<ApprovalRequest>(`/api/approvals/${encodeURIComponent(a.id)}/approve`)
            .then(async (done) => {
              setStatus(approvalsStatus, 'ok', `Approved: ${kindText(done.kind)} ${done.object_id} (request ${done.id}).`);
              await load();
            })
            .catch((error: unknown) => {
              setStatus(approvalsStatus, 'error', errorMessage(error));
              approve.disabled = false;
            });
        });
        reject.addEventListener('click', () =>
          askReason(cell, `rejecting request ${a.id}`, 'Reject', approvalsStatus, async (reason) => {
            const done = await postJson<ApprovalRequest>(`/api/approvals/${encodeURIComponent(a.id)}/reject`, { reason });
            setStatus(approvalsStatus, 'ok', `Rejected: ${kindText(done.kind)} ${done.object_id} (request ${done.id}).`);
            await load();
          }),
        );
        append(cell, approve, ' ', reject, offer.offer ? null : h('div', { class: 'hint', text: offer.why }));
      }
      const decided = a.decided_by
        ? h('span', {}, a.decided_by, h('div', { class: 'muted small', text: `${formatTime(a.decided_ms)}${a.decision_reason ? `: ${a.decision_reason}` : ''}` }))
        : h('span', { class: 'muted', text: '–' });
      approvalsBody.appendChild(
        h(
          'tr',
          { 'data-id': a.id, 'data-status': status, 'data-object': a.object_id },
          h('th', { scope: 'row' }, kindText(a.kind), h('div', { class: 'muted small mono', text: a.id })),
          h('td', {}, a.object_id, a.camera ? h('div', { class: 'muted small', text: `camera ${cameraName(a.camera)}` }) : null),
          h('td', { text: a.legal_basis_ref || '–' }),
          h('td', { class: 'small', text: a.reason }),
          h('td', {}, a.requester, h('div', { class: 'muted small', text: formatTime(a.created_ms) })),
          h('td', { class: 'small', text: formatTime(a.expires_ms) }),
          h('td', {}, pill(status)),
          h('td', {}, decided),
          cell,
        ),
      );
    }
  };

  const renderBases = (r: PolicyRecords, now: number): void => {
    clear(basesBody);
    if (r.legal_bases.length === 0) emptyRow(basesBody, 8, 'No legal bases are registered.');
    const sorted = [...r.legal_bases].sort((a, b) => b.created_ms - a.created_ms);
    for (const b of sorted) {
      const status = legalBasisStatus(b, now);
      const cell = h('td', { class: 'actions' });
      if (actions.manage && status !== 'revoked') {
        const revoke = button('Revoke', `Revoke legal basis ${b.reference}`, 'danger');
        revoke.addEventListener('click', () =>
          askReason(cell, `revoking legal basis ${b.reference}`, 'Revoke', basesStatus, async (reason) => {
            await postJson<unknown>('/api/legal-bases/revoke', { reference: b.reference, reason });
            setStatus(basesStatus, 'ok', `Legal basis ${b.reference} revoked.`);
            await load();
          }),
        );
        cell.appendChild(revoke);
      }
      basesBody.appendChild(
        h(
          'tr',
          { 'data-reference': b.reference, 'data-status': status },
          h('th', { scope: 'row' }, b.reference, b.scope.description ? h('div', { class: 'muted small', text: b.scope.description }) : null),
          h('td', { text: b.type.replace(/_/g, ' ') }),
          h('td', { text: b.issuing_authority }),
          h('td', { class: 'small' }, shortList(b.scope.acts.map(actText), 'all acts'), h('div', { class: 'muted', text: `cameras: ${shortList(b.scope.cameras.map(cameraName), 'all')}` })),
          h('td', { class: 'small', text: window_(b.valid_from_ms, b.expires_ms) }),
          h('td', {}, pill(status), b.revoked_ms ? h('div', { class: 'muted small', text: `by ${b.revoked_by} ${formatTime(b.revoked_ms)}: ${b.revoke_reason}` }) : null),
          h('td', { class: 'small' }, b.created_by, h('div', { class: 'muted', text: formatTime(b.created_ms) })),
          cell,
        ),
      );
    }
  };

  const renderFaces = (r: PolicyRecords, now: number): void => {
    clear(facesBody);
    if (r.face_authorisations.length === 0) emptyRow(facesBody, 8, 'No face-recognition authorisations: face recognition is off everywhere.');
    for (const a of r.face_authorisations) {
      const status = faceAuthorisationStatus(a, now);
      const cell = h('td', { class: 'actions' });
      if (actions.manage && status !== 'revoked') {
        const revoke = button('Revoke', `Revoke face-recognition authorisation ${a.name}`, 'danger');
        revoke.addEventListener('click', () =>
          askReason(cell, `revoking authorisation ${a.name}`, 'Revoke', facesStatus, async (reason) => {
            await postJson<unknown>(`/api/face-authorisations/${encodeURIComponent(a.id)}/revoke`, { reason });
            setStatus(facesStatus, 'ok', `Authorisation ${a.name} revoked.`);
            await load();
          }),
        );
        cell.appendChild(revoke);
      }
      facesBody.appendChild(
        h(
          'tr',
          { 'data-id': a.id, 'data-status': status },
          h('th', { scope: 'row' }, a.name, h('div', { class: 'muted small', text: a.purpose.replace(/_/g, ' ') })),
          h('td', { class: 'small', text: a.all_cameras ? 'all cameras' : shortList(a.cameras.map(cameraName), 'none') }),
          h('td', { class: 'small', text: window_(a.start_ms, a.end_ms) }),
          h('td', { class: 'small', text: formatTime(a.expires_ms) }),
          h('td', { class: 'small' }, a.legal_basis_ref, h('div', { class: 'muted', text: `${a.issuing_authority}; approval ${a.approval_id}` })),
          h('td', {}, pill(status), a.revoked_ms ? h('div', { class: 'muted small', text: `by ${a.revoked_by}: ${a.revoke_reason}` }) : null),
          h('td', { class: 'small', text: a.created_by }),
          cell,
        ),
      );
    }
  };

  const renderAssemblies = (r: PolicyRecords, now: number): void => {
    clear(assembliesBody);
    if (r.assemblies.length === 0) emptyRow(assembliesBody, 7, 'No protected assemblies are declared.');
    const sorted = [...r.assemblies].sort((a, b) => b.start_ms - a.start_ms);
    for (const a of sorted) {
      const status = assemblyStatus(a, now);
      const cell = h('td', { class: 'actions' });
      if (actions.manage && status !== 'revoked') {
        const revoke = button('Revoke', `Revoke protected assembly ${a.name}`, 'danger');
        revoke.addEventListener('click', () =>
          askReason(cell, `revoking assembly ${a.name}`, 'Revoke', assembliesStatus, async (reason) => {
            await postJson<unknown>(`/api/assemblies/${encodeURIComponent(a.id)}/revoke`, { reason });
            setStatus(assembliesStatus, 'ok', `Protected assembly ${a.name} revoked.`);
            await load();
          }),
        );
        cell.appendChild(revoke);
      }
      const targets = a.targets.map((t) => (t.zone ? `${cameraName(t.camera)} (zone ${t.zone})` : cameraName(t.camera)));
      if (a.area) targets.push(a.area.circle_center ? `circle of ${a.area.circle_radius_m ?? 0} m` : `area of ${a.area.polygon.length} corners`);
      assembliesBody.appendChild(
        h(
          'tr',
          { 'data-id': a.id, 'data-status': status },
          h('th', { scope: 'row', text: a.name }),
          h('td', { text: a.kind }),
          h('td', { class: 'small', text: shortList(targets, 'nothing') }),
          h('td', { class: 'small', text: window_(a.start_ms, a.end_ms) }),
          h('td', {}, pill(status), a.revoked_ms ? h('div', { class: 'muted small', text: `by ${a.revoked_by}: ${a.revoke_reason}` }) : null),
          h('td', { class: 'small', text: a.created_by }),
          cell,
        ),
      );
    }
  };

  const renderHolds = (r: PolicyRecords): void => {
    clear(holdsBody);
    if (r.holds.length === 0) emptyRow(holdsBody, 7, 'No evidence holds.');
    for (const x of r.holds) {
      const status = holdStatus(x);
      const cell = h('td', { class: 'actions' });
      if (actions.releaseHolds && status === 'held') {
        const release = button('Release', `Release evidence hold ${x.id}`, 'danger');
        release.addEventListener('click', () =>
          askReason(cell, `releasing hold ${x.id}`, 'Release', holdsStatus, async (reason) => {
            await postJson<unknown>(`/api/holds/${encodeURIComponent(x.id)}/release`, { reason });
            setStatus(holdsStatus, 'ok', `Evidence hold ${x.id} released; retention applies again.`);
            await load();
          }),
        );
        cell.appendChild(release);
      }
      holdsBody.appendChild(
        h(
          'tr',
          { 'data-id': x.id, 'data-status': status },
          h('th', { scope: 'row' }, x.case_reference, h('div', { class: 'muted small mono', text: x.id })),
          h('td', { class: 'small' }, x.camera ? cameraName(x.camera) : '–', x.from_ms || x.to_ms ? h('div', { class: 'muted', text: window_(x.from_ms, x.to_ms) }) : null),
          h('td', { class: 'num', text: String(x.segments.length) }),
          h('td', { class: 'small' }, x.legal_basis_ref, h('div', { class: 'muted', text: `approval ${x.approval_id}` })),
          h('td', { class: 'small' }, x.placed_by, h('div', { class: 'muted', text: formatTime(x.placed_ms) })),
          h('td', {}, pill(status), x.released_ms ? h('div', { class: 'muted small', text: `by ${x.released_by}: ${x.release_reason}` }) : null),
          cell,
        ),
      );
    }
  };

  // ---- Forms ----
  const basisList = h('datalist', { id: 'bases-in-force' });
  const cameraSelect = h('select', { name: 'camera' }, h('option', { value: '', text: '— none —' }));
  const requestStatus = statusLine('info');
  requestStatus.id = 'request-status';
  let requestForm: HTMLFormElement | null = null;
  if (actions.requestKinds.length > 0) {
    const kind = h('select', { name: 'kind', required: true }, ...APPROVAL_KINDS.filter((k) => actions.requestKinds.includes(k.kind)).map((k) => h('option', { value: k.kind, text: k.text })));
    const object = h('input', { name: 'object_id', required: true, autocomplete: 'off' });
    const basis = h('input', { name: 'legal_basis_ref', required: true, autocomplete: 'off', list: 'bases-in-force' });
    const reason = h('input', { name: 'reason', required: true, autocomplete: 'off', class: 'wide' });
    const submit = h('button', { type: 'submit', text: 'Request approval' });
    requestForm = h(
      'form',
      { class: 'filters policy-form', 'aria-label': 'Request approval' },
      field('rq-kind', 'Kind', kind),
      field('rq-object', 'Object id', object, 'watchlist entry, export, case…'),
      field('rq-basis', 'Legal basis reference', basis),
      field('rq-camera', 'Camera (optional)', cameraSelect),
      field('rq-reason', 'Reason for the request', reason),
      h('div', { class: 'field actions' }, submit),
    );
    requestForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const body: Record<string, string> = { kind: kind.value, object_id: object.value.trim(), legal_basis_ref: basis.value.trim(), reason: reason.value.trim() };
      if (cameraSelect.value) body['camera'] = cameraSelect.value;
      submit.disabled = true;
      setStatus(requestStatus, 'info', 'Sending the request…');
      postJson<ApprovalRequest>('/api/approvals', body)
        .then(async (r) => {
          setStatus(requestStatus, 'ok', `Requested: ${kindText(r.kind)} ${r.object_id} (request ${r.id}), pending until ${formatTime(r.expires_ms)}. A supervisor other than you must decide it.`);
          object.value = '';
          reason.value = '';
          await load();
        })
        .catch((error: unknown) => setStatus(requestStatus, 'error', errorMessage(error)))
        .finally(() => {
          submit.disabled = false;
        });
    });
  }

  const basisStatus = statusLine('info');
  basisStatus.id = 'add-basis-status';
  const assemblyFormStatus = statusLine('info');
  assemblyFormStatus.id = 'add-assembly-status';
  const basisCameras = h('div', { class: 'camera-checks' });
  const assemblyCameras = h('div', { class: 'camera-checks' });
  let basisCameraValues: () => string[] = () => [];
  let assemblyCameraValues: () => string[] = () => [];
  let basisForm: HTMLFormElement | null = null;
  let assemblyForm: HTMLFormElement | null = null;
  let faceForm: HTMLFormElement | null = null;
  const faceFormStatus = statusLine('info');
  faceFormStatus.id = 'add-face-status';
  const faceCameras = h('div', { class: 'camera-checks' });
  let faceCameraValues: () => string[] = () => [];
  const faceApproval = h('select', { name: 'approval_id', required: true });
  if (actions.manage) {
    const now = Date.now();
    const reference = h('input', { name: 'reference', required: true, autocomplete: 'off' });
    const type = h('select', { name: 'type' }, ...LEGAL_BASIS_TYPES.map((t) => h('option', { value: t, text: t.replace(/_/g, ' ') })));
    const authority = h('input', { name: 'issuing_authority', required: true, autocomplete: 'off' });
    const description = h('input', { name: 'description', autocomplete: 'off', class: 'wide' });
    const from = h('input', { type: 'datetime-local', name: 'valid_from', step: 1, required: true, value: toLocalInput(now) });
    const expires = h('input', { type: 'datetime-local', name: 'expires', step: 1, required: true, value: toLocalInput(now + 90 * DAY_MS) });
    const acts = checkboxGroup('Acts it covers', 'basis-act', ACTS, 'None ticked: every act.');
    const submit = h('button', { type: 'submit', text: 'Add legal basis' });
    basisForm = h(
      'form',
      { class: 'filters policy-form', 'aria-label': 'Add a legal basis' },
      field('lb-type', 'Type', type),
      field('lb-reference', 'Reference', reference, 'court order or case number'),
      field('lb-authority', 'Issuing authority', authority),
      field('lb-description', 'Scope description (optional)', description),
      field('lb-from', 'Valid from', from),
      field('lb-expires', 'Expires', expires),
      acts.box,
      basisCameras,
      h('div', { class: 'field actions' }, submit),
    );
    basisForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const built = legalBasisBody({
        reference: reference.value,
        type: type.value,
        issuing_authority: authority.value,
        description: description.value,
        valid_from_ms: fromLocalInput(from.value),
        expires_ms: fromLocalInput(expires.value),
        acts: acts.values(),
        cameras: basisCameraValues(),
      });
      if ('error' in built) {
        setStatus(basisStatus, 'error', built.error);
        return;
      }
      submit.disabled = true;
      setStatus(basisStatus, 'info', 'Adding…');
      postJson<{ reference: string }>('/api/legal-bases', built.body)
        .then(async (b) => {
          setStatus(basisStatus, 'ok', `Legal basis ${b.reference} registered.`);
          reference.value = '';
          description.value = '';
          acts.reset();
          await load();
        })
        .catch((error: unknown) => setStatus(basisStatus, 'error', errorMessage(error)))
        .finally(() => {
          submit.disabled = false;
        });
    });

    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const kind = h('select', { name: 'kind' }, ...ASSEMBLY_KINDS.map((k) => h('option', { value: k, text: k })));
    const start = h('input', { type: 'datetime-local', name: 'start', step: 1, required: true, value: toLocalInput(now) });
    const end = h('input', { type: 'datetime-local', name: 'end', step: 1, required: true, value: toLocalInput(now + 4 * 3600_000) });
    const submitAssembly = h('button', { type: 'submit', text: 'Declare assembly' });
    assemblyForm = h(
      'form',
      { class: 'filters policy-form', 'aria-label': 'Declare a protected assembly' },
      field('pa-name', 'Assembly name', name),
      field('pa-kind', 'Assembly kind', kind),
      field('pa-start', 'Starts', start),
      field('pa-end', 'Ends', end),
      assemblyCameras,
      h('div', { class: 'field actions' }, submitAssembly),
    );
    const faceName = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const purpose = h('select', { name: 'purpose' }, ...FACE_PURPOSES.map((p) => h('option', { value: p, text: p.replace(/_/g, ' ') })));
    const faceBasis = h('input', { name: 'legal_basis_ref', required: true, autocomplete: 'off', list: 'bases-in-force' });
    const faceAuthority = h('input', { name: 'issuing_authority', required: true, autocomplete: 'off' });
    const faceStart = h('input', { type: 'datetime-local', name: 'start', step: 1, required: true, value: toLocalInput(now) });
    const faceEnd = h('input', { type: 'datetime-local', name: 'end', step: 1, required: true, value: toLocalInput(now + 7 * DAY_MS) });
    const faceExpires = h('input', { type: 'datetime-local', name: 'expires', step: 1, required: true, value: toLocalInput(now + 7 * DAY_MS) });
    const submitFace = h('button', { type: 'submit', text: 'Authorise face recognition' });
    faceForm = h(
      'form',
      { class: 'filters policy-form', 'aria-label': 'Authorise face recognition' },
      field('fa-name', 'Authorisation name', faceName),
      field('fa-purpose', 'Purpose', purpose),
      field('fa-approval', 'Approved request', faceApproval, 'an approved face-recognition request'),
      field('fa-basis', 'Legal basis (face recognition)', faceBasis),
      field('fa-authority', 'Authorising authority', faceAuthority),
      field('fa-start', 'Window starts', faceStart),
      field('fa-end', 'Window ends', faceEnd),
      field('fa-expires', 'Authorisation expires', faceExpires),
      faceCameras,
      h('div', { class: 'field actions' }, submitFace),
    );
    faceForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const built = faceAuthorisationBody({
        name: faceName.value,
        purpose: purpose.value,
        legal_basis_ref: faceBasis.value,
        approval_id: faceApproval.value,
        issuing_authority: faceAuthority.value,
        cameras: faceCameraValues(),
        start_ms: fromLocalInput(faceStart.value),
        end_ms: fromLocalInput(faceEnd.value),
        expires_ms: fromLocalInput(faceExpires.value),
      });
      if ('error' in built) {
        setStatus(faceFormStatus, 'error', built.error);
        return;
      }
      submitFace.disabled = true;
      setStatus(faceFormStatus, 'info', 'Authorising…');
      postJson<{ name: string }>('/api/face-authorisations', built.body)
        .then(async (a) => {
          setStatus(faceFormStatus, 'ok', `Face recognition authorised: ${a.name}. It runs only where no protected assembly is in force.`);
          faceName.value = '';
          await load();
        })
        .catch((error: unknown) => setStatus(faceFormStatus, 'error', errorMessage(error)))
        .finally(() => {
          submitFace.disabled = false;
        });
    });

    assemblyForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const built = assemblyBody({ name: name.value, kind: kind.value, cameras: assemblyCameraValues(), start_ms: fromLocalInput(start.value), end_ms: fromLocalInput(end.value) });
      if ('error' in built) {
        setStatus(assemblyFormStatus, 'error', built.error);
        return;
      }
      submitAssembly.disabled = true;
      setStatus(assemblyFormStatus, 'info', 'Declaring…');
      postJson<{ name: string; id: string }>('/api/assemblies', built.body)
        .then(async (a) => {
          setStatus(assemblyFormStatus, 'ok', `Protected assembly ${a.name} declared: face recognition is off there in that window.`);
          name.value = '';
          await load();
        })
        .catch((error: unknown) => setStatus(assemblyFormStatus, 'error', errorMessage(error)))
        .finally(() => {
          submitAssembly.disabled = false;
        });
    });
  }

  const who = [
    actions.decideAny ? 'decide requests of others' : null,
    actions.requestKinds.length ? 'request approvals' : null,
    actions.manage ? 'register legal bases and declare protected assemblies' : null,
    actions.releaseHolds ? 'release evidence holds' : null,
  ].filter((x): x is string => x !== null);

  append(
    root,
    h('h1', { id: 'page-title', text: 'Policy records' }),
    h('p', { class: 'muted' }, `Every change here is recorded in the audit log with your name. Your role (${ctx.me.role}) may ${who.length ? who.join(', ') : 'read these records'}.`),
    loadStatus,
    basisList,
    h('section', { 'aria-labelledby': 'h-approvals' }, h('h2', { id: 'h-approvals', text: 'Approval requests (four eyes)' }), approvalsStatus, table('Approval requests', ['Kind', 'Object', 'Legal basis', 'Reason', 'Requested by', 'Expires', 'Status', 'Decided by', ''], approvalsBody), requestForm ? h('h3', { text: 'Request approval' }) : null, requestForm, requestForm ? requestStatus : null),
    h('section', { 'aria-labelledby': 'h-bases' }, h('h2', { id: 'h-bases', text: 'Legal bases' }), basesStatus, table('Legal bases', ['Reference', 'Type', 'Issuing authority', 'Scope', 'Valid', 'Status', 'Registered by', ''], basesBody), basisForm ? h('h3', { text: 'Add a legal basis' }) : null, basisForm, basisForm ? basisStatus : null),
    h('section', { 'aria-labelledby': 'h-faces' }, h('h2', { id: 'h-faces', text: 'Face-recognition authorisations' }), facesStatus, table('Face-recognition authorisations', ['Name and purpose', 'Cameras', 'Window', 'Expires', 'Legal basis', 'Status', 'Registered by', ''], facesBody), faceForm ? h('h3', { text: 'Authorise face recognition' }) : null, faceForm ? h('p', { class: 'muted small', text: 'Needs a face-recognition approval request that a supervisor approved (four eyes), and a legal basis in force that covers face recognition.' }) : null, faceForm, faceForm ? faceFormStatus : null),
    h('section', { 'aria-labelledby': 'h-assemblies' }, h('h2', { id: 'h-assemblies', text: 'Protected assemblies' }), h('p', { class: 'muted small', text: 'Face recognition is disabled by the policy engine on these cameras during these windows.' }), assembliesStatus, table('Protected assemblies', ['Name', 'Kind', 'Covers', 'Window', 'Status', 'Declared by', ''], assembliesBody), assemblyForm ? h('h3', { text: 'Declare a protected assembly' }) : null, assemblyForm, assemblyForm ? assemblyFormStatus : null),
    h('section', { 'aria-labelledby': 'h-holds' }, h('h2', { id: 'h-holds', text: 'Evidence holds' }), holdsStatus, table('Evidence holds', ['Case', 'Camera and range', 'Segments', 'Legal basis', 'Placed by', 'Status', ''], holdsBody)),
  );

  const load = async (): Promise<void> => {
    try {
      const r = await getJson<PolicyRecords>('/api/policy');
      if (stopped) return;
      records = r;
      const now = Date.now();
      renderApprovals(r, now);
      renderBases(r, now);
      renderFaces(r, now);
      renderAssemblies(r, now);
      renderHolds(r);
      clear(faceApproval);
      const usable = unusedFaceApprovals(r.approvals, r.face_authorisations, now);
      faceApproval.appendChild(h('option', { value: '', text: usable.length ? '— choose —' : '— none approved —' }));
      for (const a of usable) faceApproval.appendChild(h('option', { value: a.id, text: `${a.object_id} (${a.legal_basis_ref}, by ${a.requester})` }));
      clear(basisList);
      for (const b of basesInForce(r.legal_bases, now)) basisList.appendChild(h('option', { value: b.reference, text: `${b.reference} (${b.issuing_authority})` }));
      const pending = r.approvals.filter((a) => approvalStatus(a, now) === 'pending').length;
      setStatus(loadStatus, 'ok', `${r.legal_bases.length} legal bases, ${r.face_authorisations.length} face-recognition authorisations, ${r.assemblies.length} protected assemblies, ${r.approvals.length} approval requests (${pending} pending), ${r.holds.length} evidence holds.`);
      root.setAttribute('data-loaded', String(now));
    } catch (error) {
      setStatus(loadStatus, 'error', `The policy records cannot be loaded: ${errorMessage(error)}`);
    }
  };

  void loadCameras()
    .then((list) => {
      if (stopped) return;
      cameras = list;
      const items = list.map((c) => [c.id, c.name] as const);
      for (const c of list) cameraSelect.appendChild(h('option', { value: c.id, text: c.name }));
      const basisGroup = checkboxGroup('Cameras it covers', 'basis-camera', items, 'None ticked: every camera.');
      basisCameraValues = basisGroup.values;
      basisCameras.appendChild(basisGroup.box);
      const assemblyGroup = checkboxGroup('Cameras whose view it covers', 'assembly-camera', items, 'Tick at least one.');
      assemblyCameraValues = assemblyGroup.values;
      assemblyCameras.appendChild(assemblyGroup.box);
      const faceGroup = checkboxGroup('Cameras it covers', 'face-camera', items, 'None ticked: every camera.');
      faceCameraValues = faceGroup.values;
      faceCameras.appendChild(faceGroup.box);
      if (records) {
        // Camera names in the tables.
        const now = Date.now();
        renderApprovals(records, now);
        renderBases(records, now);
        renderFaces(records, now);
        renderAssemblies(records, now);
        renderHolds(records);
      }
    })
    .catch((error: unknown) => {
      basisCameras.appendChild(h('p', { class: 'muted small', text: `Cameras cannot be listed (${errorMessage(error)}); the legal basis will cover every camera.` }));
    });
  void load();
  return () => {
    stopped = true;
  };
}
