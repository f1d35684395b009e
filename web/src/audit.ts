// Paging through the audit log (GET /api/audit/entries). Pure: no DOM.

export const AUDIT_PAGE_SIZES: readonly number[] = [25, 50, 100, 250];

export interface AuditPaging {
  /** First index of the previous page, null at the start. */
  previous: number | null;
  /** First index of the next page, null when this page reaches the end of the log. */
  next: number | null;
  /** First index of the last page ("newest"). */
  newest: number;
  /** "Entries 100–149 of 1234", with indexes as the log numbers them (from 0). */
  text: string;
}

/** Paging for a page of `shown` entries starting at `from` in a log of `size` entries. */
export function auditPaging(from: number, limit: number, shown: number, size: number): AuditPaging {
  const newest = Math.max(0, size - limit);
  const previous = from > 0 ? Math.max(0, from - limit) : null;
  const next = from + shown < size ? from + Math.max(shown, 1) : null;
  const text = shown === 0 ? `No entries from index ${from}; the log has ${size}.` : `Entries ${from}–${from + shown - 1} of ${size} (numbered from 0)`;
  return { previous, next, newest, text };
}

/** A whole, non-negative index from a form field, or null. */
export function parseIndex(value: string): number | null {
  if (!/^\d{1,15}$/.test(value.trim())) return null;
  return Number(value.trim());
}
