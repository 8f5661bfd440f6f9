// Ack tokens (token.ts): what one key signs it accepts unchanged; anything altered, made up or
// signed under another secret is refused.
import { describe, expect, it } from 'vitest';
import { AckTokens } from './token.js';

const TARGET = { reply: '$JS.ACK.E2E_CHANGES.sqc_ab_1_0.1.42.7.1700000000000000000.0', namespace: 'app', table: 'tickets', group: 'billing', lane: 1, epoch: 0, worker: 'w-1' };

describe('AckTokens', () => {
  it('verifies its own tokens, on any gateway with the same secret', () => {
    const token = new AckTokens('s'.repeat(32)).sign(TARGET);
    expect(new AckTokens('s'.repeat(32)).verify(token)).toEqual(TARGET);
  });

  it('refuses a token of another secret, an altered payload or signature, and garbage', () => {
    const tokens = new AckTokens('s'.repeat(32));
    const token = tokens.sign(TARGET);
    const [payload, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['$JS.ACK.OTHER.c.1.1.1.1.0', 'app', 'tickets', 'billing', 1, 0, 'w-1'])).toString('base64url');
    expect(new AckTokens('t'.repeat(32)).verify(token)).toBeUndefined();
    expect(tokens.verify(`${forged}.${mac}`)).toBeUndefined();
    expect(tokens.verify(`${payload}.${mac.slice(0, -2)}AA`)).toBeUndefined();
    for (const junk of ['', '.', 'abc', `${payload}.`, `.${mac}`]) expect(tokens.verify(junk)).toBeUndefined();
  });
});
