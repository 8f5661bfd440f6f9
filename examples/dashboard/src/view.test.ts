import { describe, expect, it } from 'vitest';
import { priorityLabel, STATUSES, ticketViews } from './view.js';

describe('ticketViews', () => {
  it('keeps the live window order (not _seq order) and shows _seq as a 64-bit number', () => {
    const rows = [
      { id: 2n, title: 'b', priority: 3, status: 'done', updated_at: null, _seq: 9_007_199_254_740_995n },
      { id: 3n, title: 'c', priority: null, status: 'closed', updated_at: 1_700_000_000_500_000, _seq: 9_007_199_254_740_994n },
      { id: 1n, title: 'a', priority: 1, status: 'open', updated_at: 1_700_000_000_000_000, _seq: 9_007_199_254_740_993n },
    ];
    expect(ticketViews(rows, 'UTC')).toEqual([
      { id: '2', title: 'b', priority: 'normal', status: 'done', statuses: [...STATUSES, 'done'], updated: '', seq: '9007199254740995' },
      { id: '3', title: 'c', priority: '', status: 'closed', statuses: STATUSES, updated: '14/11/2023, 22:13:20', seq: '9007199254740994' },
      { id: '1', title: 'a', priority: 'urgent', status: 'open', statuses: STATUSES, updated: '14/11/2023, 22:13:20', seq: '9007199254740993' },
    ]);
  });

  it('reads _seq given as a string (the client in string mode), in the order given', () => {
    expect(ticketViews([{ id: '1', _seq: '20' }, { id: '2', _seq: '100' }]).map((v) => [v.id, v.seq])).toEqual([
      ['1', '20'],
      ['2', '100'],
    ]);
  });
});

describe('priorityLabel', () => {
  it('names the known priorities and shows others as they are', () => {
    expect([1, 2, 3, 4, 7, null].map(priorityLabel)).toEqual(['urgent', 'high', 'normal', 'low', '7', '']);
  });
});
