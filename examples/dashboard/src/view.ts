// What the dashboard shows, computed from a live query's rows. Pure (no DOM), so it is shared by
// the browser app and tested in Node.
import type { Row } from '@seqline/client';

/** The most tickets the list shows. */
export const TICKETS_LIMIT = 50;

/**
 * The live query behind the ticket list: the agent's own partition of the USER table, a window of
 * the most recently updated tickets (docs/protocol.md §4.7; ties broken by id).
 */
export const TICKETS_SQL = `SELECT id, title, priority, status, updated_at FROM app.tickets ORDER BY updated_at DESC LIMIT ${TICKETS_LIMIT}`;
export const CREATE_SQL = 'INSERT INTO app.tickets (title, priority, updated_at) VALUES ($1, $2, NOW())';
export const SET_STATUS_SQL = 'UPDATE app.tickets SET status = $1, updated_at = NOW() WHERE id = $2';

export const STATUSES = ['open', 'pending', 'solved', 'closed'] as const;
export const PRIORITIES = [
  { value: 1, label: 'urgent' },
  { value: 2, label: 'high' },
  { value: 3, label: 'normal' },
  { value: 4, label: 'low' },
] as const;

export interface TicketView {
  /** The ticket id as a decimal string (a BIGINT). */
  readonly id: string;
  readonly title: string;
  readonly priority: string;
  readonly status: string;
  /** The statuses the select offers: the known ones, and the ticket's own if it is another. */
  readonly statuses: readonly string[];
  readonly updated: string;
  readonly seq: string;
}

/** The tickets in the rows' order: the live window's, most recently updated first. */
export function ticketViews(rows: readonly Row[], timeZone?: string): TicketView[] {
  const format = new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeStyle: 'medium', ...(timeZone === undefined ? {} : { timeZone }) });
  return rows.map((row) => {
    const status = text(row['status']);
    return {
      id: text(row['id']),
      title: text(row['title']),
      priority: priorityLabel(row['priority']),
      status,
      statuses: (STATUSES as readonly string[]).includes(status) ? STATUSES : [...STATUSES, status],
      updated: typeof row['updated_at'] === 'number' ? format.format(new Date(row['updated_at'] / 1000)) : '',
      seq: seqOf(row).toString(),
    };
  });
}

export function priorityLabel(value: unknown): string {
  const known = PRIORITIES.find((p) => p.value === value);
  return known !== undefined ? known.label : value === null || value === undefined ? '' : text(value);
}

function seqOf(row: Row): bigint {
  const s = row['_seq'];
  return typeof s === 'bigint' ? s : typeof s === 'string' && /^\d+$/.test(s) ? BigInt(s) : 0n;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean' ? value.toString() : JSON.stringify(value);
}
