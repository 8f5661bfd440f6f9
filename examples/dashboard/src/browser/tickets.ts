// The ticket table: rows keyed by ticket id and updated in place, so a live change moves or edits
// one row and leaves a select the agent is using alone. Text goes in with textContent only.
import type { TicketView } from '../view.js';

export type OnStatusChange = (id: string, status: string) => void;

/** Makes `tbody` show `views` in order, reusing the rows it already has. */
export function renderTickets(tbody: HTMLTableSectionElement, views: readonly TicketView[], onStatusChange: OnStatusChange): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const tr of tbody.rows) existing.set(tr.dataset['id'] ?? '', tr);
  let previous: HTMLTableRowElement | undefined;
  for (const view of views) {
    const tr = existing.get(view.id) ?? createRow(view.id, onStatusChange);
    existing.delete(view.id);
    updateRow(tr, view);
    const expected = previous === undefined ? tbody.firstElementChild : previous.nextElementSibling;
    if (expected !== tr) tbody.insertBefore(tr, expected);
    previous = tr;
  }
  for (const tr of existing.values()) tr.remove();
}

function createRow(id: string, onStatusChange: OnStatusChange): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset['testid'] = 'ticket';
  tr.dataset['id'] = id;
  for (const name of ['title', 'priority', 'status', 'updated', 'seq']) {
    const td = tr.insertCell();
    td.className = name;
    if (name === 'status') {
      const select = document.createElement('select');
      select.dataset['testid'] = 'ticket-status';
      select.setAttribute('aria-label', 'Status');
      select.addEventListener('change', () => onStatusChange(id, select.value));
      td.append(select);
    } else {
      td.dataset['testid'] = `ticket-${name}`;
    }
  }
  return tr;
}

function updateRow(tr: HTMLTableRowElement, view: TicketView): void {
  const cell = (name: string): HTMLTableCellElement => tr.querySelector<HTMLTableCellElement>(`td.${name}`)!;
  setText(cell('title'), view.title);
  setText(cell('priority'), view.priority);
  setText(cell('updated'), view.updated);
  setText(cell('seq'), view.seq);
  tr.dataset['priority'] = view.priority;
  tr.dataset['status'] = view.status;
  const select = cell('status').querySelector('select')!;
  if ([...select.options].map((o) => o.value).join('\n') !== view.statuses.join('\n')) {
    select.replaceChildren(...view.statuses.map((s) => new Option(s, s)));
  }
  if (select.value !== view.status) select.value = view.status;
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
