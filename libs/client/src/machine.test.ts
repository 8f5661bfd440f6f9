// The connection machine (SPEC.md): every state × every event, then random event sequences
// against the rules that must always hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statusOf, transition, type ConnectionEvent, type ConnectionState, type MachineOptions } from './machine.js';

const OPTIONS: MachineOptions = { backoff: { baseMs: 100, capMs: 1000 }, random: () => 0.5 };
const NOW = 10_000;

const STATES: Record<string, ConnectionState> = {
  idle: { kind: 'idle' },
  connecting: { kind: 'connecting', attempt: 0, authFailures: 0 },
  reconnecting: { kind: 'connecting', attempt: 2, authFailures: 0 },
  authenticating: { kind: 'authenticating', attempt: 0, authFailures: 0 },
  'authenticating, 2 auth failures': { kind: 'authenticating', attempt: 1, authFailures: 2 },
  open: { kind: 'open' },
  waiting: { kind: 'waiting', attempt: 1, authFailures: 0, until: NOW + 50 },
  'waiting, due': { kind: 'waiting', attempt: 1, authFailures: 0, until: NOW },
  closed: { kind: 'closed' },
};

const EVENTS: Record<string, ConnectionEvent> = {
  start: { type: 'start' },
  socket_open: { type: 'socket_open' },
  auth_ok: { type: 'auth_ok' },
  'auth_failed (expired)': { type: 'auth_failed', retryable: true, code: 'TOKEN_EXPIRED', message: 'token expired' },
  'auth_failed (refused)': { type: 'auth_failed', retryable: false, code: 'TOKEN_REVOKED', message: 'token revoked' },
  socket_closed: { type: 'socket_closed' },
  timer: { type: 'timer' },
  online: { type: 'online' },
  stop: { type: 'stop' },
};

/** Expected: the next state's description and the actions, in order ('-' = nothing changes). */
const TABLE: Record<string, Record<string, string>> = {
  idle: { start: 'connecting#0 | open_socket, status:connecting', stop: 'closed | status:closed' },
  connecting: { socket_open: 'authenticating#0 | authenticate', socket_closed: 'waiting#0@10075 | arm_timer:10075, status:reconnecting', stop: 'closed | close_socket, status:closed' },
  reconnecting: { socket_open: 'authenticating#2 | authenticate', socket_closed: 'waiting#2@10300 | arm_timer:10300', stop: 'closed | close_socket, status:closed' },
  authenticating: {
    auth_ok: 'open | subscribe_all, status:open',
    'auth_failed (expired)': 'waiting#0@10075 | close_socket, drop_token, arm_timer:10075, status:reconnecting',
    'auth_failed (refused)': 'closed | close_socket, status:closed:TOKEN_REVOKED',
    socket_closed: 'waiting#0@10075 | arm_timer:10075, status:reconnecting',
    stop: 'closed | close_socket, status:closed',
  },
  'authenticating, 2 auth failures': {
    auth_ok: 'open | subscribe_all, status:open',
    'auth_failed (expired)': 'closed | close_socket, status:closed:TOKEN_EXPIRED',
    'auth_failed (refused)': 'closed | close_socket, status:closed:TOKEN_REVOKED',
    socket_closed: 'waiting#1@10150 | arm_timer:10150',
    stop: 'closed | close_socket, status:closed',
  },
  open: { socket_closed: 'waiting#0@10075 | arm_timer:10075, status:reconnecting', stop: 'closed | close_socket, status:closed' },
  waiting: { timer: 'waiting#1@10050 | arm_timer:10050', online: 'connecting#2 | cancel_timer, open_socket', stop: 'closed | cancel_timer, status:closed' },
  'waiting, due': { timer: 'connecting#2 | open_socket', online: 'connecting#2 | cancel_timer, open_socket', stop: 'closed | cancel_timer, status:closed' },
  closed: { start: 'connecting#0 | open_socket, status:connecting' },
};

function describeState(s: ConnectionState): string {
  switch (s.kind) {
    case 'connecting':
    case 'authenticating':
      return `${s.kind}#${s.attempt}`;
    case 'waiting':
      return `waiting#${s.attempt}@${s.until}`;
    default:
      return s.kind;
  }
}

describe('connection machine', () => {
  for (const [stateName, state] of Object.entries(STATES)) {
    for (const [eventName, event] of Object.entries(EVENTS)) {
      it(`${stateName} × ${eventName}`, () => {
        const { state: next, actions } = transition(state, event, NOW, OPTIONS);
        const got = `${describeState(next)} | ${actions.map((a) => (a.type === 'arm_timer' ? `arm_timer:${a.at}` : a.type === 'status' ? `status:${a.status}${a.error ? `:${a.error.code}` : ''}` : a.type)).join(', ')}`;
        const expected = TABLE[stateName]![eventName];
        if (expected === undefined) {
          expect(next).toBe(state); // not listed: nothing changes
          expect(actions).toEqual([]);
        } else {
          expect(got).toBe(expected);
        }
      });
    }
  }

  it('keeps its rules over any sequence of events', () => {
    const event = fc.constantFrom(...Object.values(EVENTS));
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.integer({ min: 0, max: 2000 })), { maxLength: 60 }), (steps) => {
        let state: ConnectionState = { kind: 'idle' };
        let now = 0;
        let sockets = 0; // open_socket minus the socket_closed / close_socket that ended one
        let status = statusOf(state);
        for (const [e, dt] of steps) {
          now += dt;
          // The environment only reports what can happen: a socket event needs a socket.
          if ((e.type === 'socket_open' || e.type === 'socket_closed') && sockets === 0) continue;
          if ((e.type === 'auth_ok' || e.type === 'auth_failed') && state.kind !== 'authenticating') continue;
          const { state: next, actions } = transition(state, e, now, OPTIONS);
          if (e.type === 'socket_closed') sockets--;
          for (const a of actions) {
            if (a.type === 'open_socket') sockets++;
            if (a.type === 'close_socket') sockets--;
            if (a.type === 'status') {
              expect(a.status).toBe(statusOf(next));
              status = a.status;
            }
            if (a.type === 'arm_timer') expect(a.at - now).toBeLessThanOrEqual(OPTIONS.backoff.capMs);
          }
          expect(sockets).toBeGreaterThanOrEqual(0);
          expect(sockets).toBeLessThanOrEqual(1); // one socket at a time
          if (next.kind === 'closed' || next.kind === 'waiting' || next.kind === 'idle') expect(sockets).toBe(0);
          expect(status).toBe(statusOf(next)); // every status change was announced
          state = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});
