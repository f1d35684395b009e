// Small form pieces shared by pages: a labelled field, and asking for a reason in place of an
// action's buttons (rejections, withdrawals and revocations are recorded with their reason).

import { errorMessage } from './api';
import { append, clear, h, setStatus } from './dom';

/** A label above its control (and an optional hint under it); gives the control its id. */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('span', { class: 'hint', text: hint }) : null);
}

/**
 * Replaces `cell`'s buttons with a small form asking for a reason; runs `act` with it.
 * A refusal shows in `status` verbatim and keeps the form for another try; Cancel puts the
 * buttons back.
 */
export function askReason(cell: HTMLElement, what: string, confirmText: string, status: HTMLElement, act: (reason: string) => Promise<void>): void {
  const saved = [...cell.childNodes];
  const id = `reason-${Math.random().toString(36).slice(2, 10)}`;
  const input = h('input', { id, name: 'reason', required: true, autocomplete: 'off', class: 'reason' });
  const confirm = h('button', { type: 'submit', class: 'danger', text: confirmText });
  const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  // novalidate: an empty reason gets the message below in `status`, not a browser bubble.
  const form = h('form', { class: 'reason-form', 'aria-label': what, novalidate: true }, h('label', { for: id, text: `Reason (${what})` }), input, h('div', { class: 'row' }, confirm, cancel));
  cancel.addEventListener('click', () => {
    clear(cell);
    append(cell, ...saved);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const reason = input.value.trim();
    if (!reason) {
      setStatus(status, 'error', 'Give a reason: it is recorded in the audit log.');
      input.focus();
      return;
    }
    confirm.disabled = true;
    setStatus(status, 'info', 'Sending…');
    act(reason)
      .catch((error: unknown) => setStatus(status, 'error', errorMessage(error)))
      .finally(() => {
        confirm.disabled = false;
      });
  });
  clear(cell);
  cell.appendChild(form);
  input.focus();
}
