import { describe, expect, it } from 'vitest';
import { completeKeyword } from './complete.js';

describe('completeKeyword', () => {
  it('completes the word before the cursor from the keywords, in the case it was typed in', () => {
    expect(completeKeyword('sel', '')).toEqual([['select'], 'sel']);
    expect(completeKeyword('SELECT * FR', '')).toEqual([['FROM'], 'FR']);
    expect(completeKeyword('select * from app.t wh', '')).toEqual([['when', 'where'], 'wh']);
    expect(completeKeyword('Ta', '')).toEqual([['TABLE', 'TABLES'], 'Ta']);
    expect(completeKeyword('SELECT count(di', '')).toEqual([['distinct'], 'di']);
  });

  it('offers nothing without a word, or inside a string, a quoted name or a comment', () => {
    expect(completeKeyword('SELECT ', '')).toEqual([[], '']);
    expect(completeKeyword("SELECT 'sel", '')).toEqual([[], 'sel']);
    expect(completeKeyword('sel', "SELECT 'a\n")).toEqual([[], 'sel']);
    expect(completeKeyword('SELECT "sel', '')).toEqual([[], 'sel']);
    expect(completeKeyword('SELECT 1 -- sel', '')).toEqual([[], 'sel']);
    expect(completeKeyword('sel', 'SELECT 1 /* a\n')).toEqual([[], 'sel']);
    expect(completeKeyword('xyz', '')).toEqual([[], 'xyz']);
  });
});
