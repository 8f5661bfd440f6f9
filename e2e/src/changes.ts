// Reads everything on a change subject from JetStream, from the start, decoded: what a
// resuming client would see.
import { busPb } from '@seqline/proto';
import { readSubject } from '@seqline/testkit';
import { expect } from 'vitest';

export async function readChanges(stream: string, subject: string, natsUrl?: string | readonly string[]): Promise<busPb.Change[]> {
  return (await readSubject(stream, subject, natsUrl)).map((m) => busPb.Change.decode(m.data));
}

/** Each change names the one before it on its subject (prev_seq), from 0, with _seq increasing: none missing, none twice. */
export function expectChain(changes: readonly busPb.Change[]): void {
  let prev = 0n;
  for (const c of changes) {
    expect(c.prevSeq).toBe(prev);
    expect(c.seq).toBeGreaterThan(prev);
    prev = c.seq;
  }
}
