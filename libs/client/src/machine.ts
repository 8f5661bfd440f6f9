// The connection's state machine (SPEC.md, "Connection"): pure, `(state, event, now)` →
// `{ state, actions }`. The client performs the actions and feeds back what happens.
import { backoffDelay, type BackoffOptions } from './backoff.js';

export type ConnectionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly attempt: number; readonly authFailures: number }
  | { readonly kind: 'authenticating'; readonly attempt: number; readonly authFailures: number }
  | { readonly kind: 'open' }
  | { readonly kind: 'waiting'; readonly attempt: number; readonly authFailures: number; readonly until: number }
  | { readonly kind: 'closed'; readonly error?: ConnectionError };

export interface ConnectionError {
  readonly code: string;
  readonly message: string;
}

export type ConnectionEvent =
  | { readonly type: 'start' }
  | { readonly type: 'socket_open' }
  | { readonly type: 'auth_ok' }
  | { readonly type: 'auth_failed'; readonly retryable: boolean; readonly code: string; readonly message: string }
  | { readonly type: 'socket_closed' }
  | { readonly type: 'timer' }
  | { readonly type: 'online' }
  | { readonly type: 'stop' };

/**
 * The connection's status as an app shows it: `connecting` (first attempt), `open`
 * (authenticated; live queries are subscribed), `reconnecting` (lost, backing off or retrying),
 * `closed` (closed by the app, or authentication refused for good).
 */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed';

export type ConnectionAction =
  | { readonly type: 'open_socket' }
  | { readonly type: 'authenticate' }
  | { readonly type: 'subscribe_all' }
  | { readonly type: 'drop_token' }
  | { readonly type: 'close_socket' }
  | { readonly type: 'arm_timer'; readonly at: number }
  | { readonly type: 'cancel_timer' }
  | { readonly type: 'status'; readonly status: Status; readonly error?: ConnectionError };

export interface Transition {
  readonly state: ConnectionState;
  readonly actions: readonly ConnectionAction[];
}

export interface MachineOptions {
  readonly backoff: BackoffOptions;
  /** In [0, 1): the jitter source. */
  readonly random: () => number;
}

/** Consecutive retryable (expired-token) authentication failures before giving up. */
const MAX_AUTH_RETRIES = 2;

export const INITIAL: ConnectionState = { kind: 'idle' };

/** What the app is shown in a state. */
export function statusOf(state: ConnectionState): Status {
  switch (state.kind) {
    case 'idle':
    case 'closed':
      return 'closed';
    case 'connecting':
    case 'authenticating':
      return state.attempt === 0 ? 'connecting' : 'reconnecting';
    case 'open':
      return 'open';
    case 'waiting':
      return 'reconnecting';
  }
}

export function transition(state: ConnectionState, event: ConnectionEvent, now: number, options: MachineOptions): Transition {
  const same: Transition = { state, actions: [] };
  const to = (next: ConnectionState, actions: readonly ConnectionAction[]): Transition => {
    const status = statusOf(next);
    const changed = status !== statusOf(state) || next.kind === 'closed';
    const error = next.kind === 'closed' ? next.error : undefined;
    return { state: next, actions: changed ? [...actions, { type: 'status', status, ...(error === undefined ? {} : { error }) }] : actions };
  };
  const stop = (): Transition => to({ kind: 'closed' }, state.kind === 'waiting' ? [{ type: 'cancel_timer' }] : state.kind === 'idle' ? [] : [{ type: 'close_socket' }]);
  const wait = (attempt: number, authFailures: number, extra: readonly ConnectionAction[] = []): Transition => {
    const until = now + backoffDelay(attempt, options.backoff, options.random);
    return to({ kind: 'waiting', attempt, authFailures, until }, [...extra, { type: 'arm_timer', at: until }]);
  };

  switch (state.kind) {
    case 'idle':
    case 'closed':
      if (event.type === 'start') return to({ kind: 'connecting', attempt: 0, authFailures: 0 }, [{ type: 'open_socket' }]);
      if (event.type === 'stop' && state.kind === 'idle') return to({ kind: 'closed' }, []);
      return same;
    case 'connecting':
      if (event.type === 'socket_open') return to({ kind: 'authenticating', attempt: state.attempt, authFailures: state.authFailures }, [{ type: 'authenticate' }]);
      if (event.type === 'socket_closed') return wait(state.attempt, state.authFailures);
      if (event.type === 'stop') return stop();
      return same;
    case 'authenticating':
      if (event.type === 'auth_ok') return to({ kind: 'open' }, [{ type: 'subscribe_all' }]);
      if (event.type === 'auth_failed') {
        if (event.retryable && state.authFailures < MAX_AUTH_RETRIES) return wait(state.attempt, state.authFailures + 1, [{ type: 'close_socket' }, { type: 'drop_token' }]);
        return to({ kind: 'closed', error: { code: event.code, message: event.message } }, [{ type: 'close_socket' }]);
      }
      if (event.type === 'socket_closed') return wait(state.attempt, state.authFailures);
      if (event.type === 'stop') return stop();
      return same;
    case 'open':
      if (event.type === 'socket_closed') return wait(0, 0);
      if (event.type === 'stop') return stop();
      return same;
    case 'waiting':
      if ((event.type === 'timer' && now >= state.until) || event.type === 'online') {
        return to({ kind: 'connecting', attempt: state.attempt + 1, authFailures: state.authFailures }, event.type === 'online' ? [{ type: 'cancel_timer' }, { type: 'open_socket' }] : [{ type: 'open_socket' }]);
      }
      // A timer that fired before `until` (timers and the wall clock disagree by a millisecond
      // now and then): wait again, or the client would wait forever.
      if (event.type === 'timer') return { state, actions: [{ type: 'arm_timer', at: state.until }] };
      if (event.type === 'stop') return stop();
      return same;
  }
}
