// Ack tokens of change consumers (docs/protocol.md §2, "Change consumers"). A token carries the
// JetStream ack subject of the lane consumer's message it acknowledges, and the lane it belongs
// to, signed with HMAC-SHA256 under a key derived from the gateways' shared JWT secret: any
// gateway accepts a token any gateway issued, and no caller can make one up, so an ack can
// only ever reach a subject the gateway itself handed out (never another stream or consumer).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { GroupId } from './lanes.js';

export interface AckTarget extends GroupId {
  /** The JetStream ack subject (the message's reply subject). */
  readonly reply: string;
  readonly lane: number;
  readonly epoch: number;
  readonly worker: string;
}

export class AckTokens {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = createHmac('sha256', secret).update('seqline consumer ack token v1').digest();
  }

  sign(target: AckTarget): string {
    const payload = Buffer.from(JSON.stringify([target.reply, target.namespace, target.table, target.group, target.lane, target.epoch, target.worker])).toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The target of a token this key signed; undefined for anything else. */
  verify(token: string): AckTarget | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#mac(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string, string, string, number, number, string];
    const [reply, namespace, table, group, lane, epoch, worker] = fields;
    return { reply, namespace, table, group, lane, epoch, worker };
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}
