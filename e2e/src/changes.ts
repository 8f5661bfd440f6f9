// Reads everything on a change subject from JetStream, from the start, decoded: what a
// resuming client would see.
import { busPb } from '@seqline/proto';
import { readSubject } from '@seqline/testkit';

export async function readChanges(stream: string, subject: string, natsUrl?: string): Promise<busPb.Change[]> {
  return (await readSubject(stream, subject, natsUrl)).map((m) => busPb.Change.decode(m.data));
}
