import { afterEach, describe, expect, it, vi } from 'vitest';
import { CredentialCache, type CurrentCredentials } from './credential-cache.js';
import { MessageGate, SocketRevocation } from './revocation.js';

function setup(ttlMs = 1000, maxEntries?: number, batchSize?: number) {
  const clock = { now: 0 };
  const users = new Map<string, CurrentCredentials>([['alice', { role: 'user', version: 1 }]]);
  /** The users of each load, one string per load. */
  const loads: string[] = [];
  const gate: { hold: Promise<void> | undefined } = { hold: undefined };
  const state = { fail: false };
  const cache = new CredentialCache({
    load: async (userIds) => {
      loads.push(userIds.join(','));
      await gate.hold;
      if (state.fail) throw new Error('storage down');
      return new Map(userIds.flatMap((id) => (users.has(id) ? [[id, users.get(id)!] as const] : [])));
    },
    ttlMs,
    now: () => clock.now,
    ...(maxEntries === undefined ? {} : { maxEntries }),
    ...(batchSize === undefined ? {} : { batchSize }),
  });
  return { cache, clock, users, loads, gate, state };
}

describe('CredentialCache', () => {
  it('admits a token of the current version with the current role, and refuses a dropped user or an older version', async () => {
    const { cache, users } = setup();
    expect(await cache.admit({ sub: 'alice', cv: 1 })).toEqual({ ok: true, caller: { userId: 'alice', role: 'user' } });
    users.set('alice', { role: 'user', version: 2 });
    cache.invalidate('alice');
    expect(await cache.admit({ sub: 'alice', cv: 1 })).toEqual({ ok: false, code: 'TOKEN_REVOKED', message: "token revoked: the user's credentials changed; log in again" });
    expect(await cache.admit({ sub: 'alice', cv: 2 })).toEqual({ ok: true, caller: { userId: 'alice', role: 'user' } });
    users.delete('alice');
    cache.invalidate('alice');
    expect(await cache.admit({ sub: 'alice', cv: 2 })).toEqual({ ok: false, code: 'TOKEN_REVOKED', message: 'token revoked: the user no longer exists' });
  });

  it('reads storage once per TTL, and again at once after an invalidation', async () => {
    const { cache, clock, users, loads } = setup(1000);
    await cache.current('alice');
    users.set('alice', { role: 'dba', version: 2 });
    clock.now = 999;
    expect(await cache.current('alice')).toEqual({ role: 'user', version: 1 }); // the TTL backstop has not run out
    clock.now = 1000;
    expect(await cache.current('alice')).toEqual({ role: 'dba', version: 2 });
    users.set('alice', { role: 'user', version: 3 });
    cache.invalidate('alice');
    expect(await cache.current('alice')).toEqual({ role: 'user', version: 3 });
    expect(loads).toEqual(['alice', 'alice', 'alice']);
  });

  it('shares one load among concurrent checks, does not keep a failed one, and drops a load an invalidation overtook', async () => {
    const { cache, users, loads, gate, state } = setup();
    let release!: () => void;
    gate.hold = new Promise((r) => (release = r));
    const first = cache.current('alice');
    const second = cache.current('alice');
    await vi.waitFor(() => expect(loads).toEqual(['alice'])); // the read is under way
    cache.invalidate('alice'); // the change committed while the first read was under way
    users.set('alice', { role: 'user', version: 2 });
    release();
    expect(await first).toEqual(await second);
    expect(await cache.current('alice')).toEqual({ role: 'user', version: 2 });
    expect(loads).toEqual(['alice', 'alice']);
    gate.hold = undefined;
    state.fail = true;
    cache.invalidate('alice');
    await expect(cache.current('alice')).rejects.toThrow('storage down');
    state.fail = false;
    expect(await cache.current('alice')).toEqual({ role: 'user', version: 2 });
    expect(loads).toEqual(['alice', 'alice', 'alice', 'alice']);
  });

  it('loads the users asked for in one turn of the event loop together, batchSize at a time', async () => {
    const { cache, users, loads } = setup(60_000, undefined, 2);
    users.set('bob', { role: 'dba', version: 3 });
    const asked = ['alice', 'bob', 'carol', 'alice', 'dave', 'erin'].map((u) => cache.current(u));
    expect(await Promise.all(asked)).toEqual([{ role: 'user', version: 1 }, { role: 'dba', version: 3 }, undefined, { role: 'user', version: 1 }, undefined, undefined]);
    expect(loads).toEqual(['alice,bob', 'carol,dave', 'erin']);
    expect(await cache.current('bob')).toEqual({ role: 'dba', version: 3 });
    expect(loads).toHaveLength(3);
  });

  it('fails every check of a batch whose load fails, and keeps none of them', async () => {
    const { cache, loads, state } = setup(60_000);
    state.fail = true;
    const asked = ['alice', 'bob'].map((u) => cache.current(u).then(() => 'loaded', (err: Error) => err.message));
    expect(await Promise.all(asked)).toEqual(['storage down', 'storage down']);
    state.fail = false;
    expect(await Promise.all(['alice', 'bob'].map((u) => cache.current(u)))).toEqual([{ role: 'user', version: 1 }, undefined]);
    expect(loads).toEqual(['alice,bob', 'alice,bob']);
  });

  it('holds at most maxEntries users, forgetting the oldest', async () => {
    const { cache, loads } = setup(60_000, 2);
    for (const u of ['a', 'b', 'c', 'b', 'a']) await cache.current(u);
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });

  it('invalidates on each notice of the bus and tells its listeners', async () => {
    const { cache, loads } = setup(60_000);
    const heard: string[] = [];
    cache.onInvalidate((u) => heard.push(u));
    await cache.current('alice');
    async function* notices() {
      yield { string: () => 'alice' };
      yield { string: () => '' };
      yield { string: () => 'bob' };
    }
    cache.follow(notices());
    await vi.waitFor(() => expect(heard).toEqual(['alice', 'bob']));
    await cache.current('alice');
    expect(loads).toEqual(['alice', 'alice']);
  });
});

describe('CredentialCache after a NATS reconnect', () => {
  it('forgets every user (notices sent meanwhile were lost) and tells the listeners', async () => {
    const { cache, loads } = setup(60_000);
    const heard: string[] = [];
    cache.onInvalidate((u) => heard.push(u));
    await cache.current('alice');
    await cache.current('bob');
    async function* statuses() {
      yield { type: 'disconnect' };
      yield { type: 'reconnect' };
    }
    cache.followReconnects(statuses());
    await vi.waitFor(() => expect(heard).toEqual(['alice', 'bob']));
    await cache.current('alice');
    expect(loads).toEqual(['alice', 'bob', 'alice']);
  });
});

describe('SocketRevocation', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("revokes the watched sockets of a user whose version moved on or whose role changed, on the user's notice", async () => {
    const { cache, users } = setup(60_000);
    const revocation = new SocketRevocation(cache);
    const revoked: string[] = [];
    revocation.watch({ sub: 'alice', cv: 1 }, 'user', (reason) => revoked.push(`a1: ${reason}`));
    const stop = revocation.watch({ sub: 'alice', cv: 1 }, 'user', (reason) => revoked.push(`a2: ${reason}`));
    revocation.watch({ sub: 'bob', cv: 1 }, 'user', (reason) => revoked.push(`b: ${reason}`));
    users.set('bob', { role: 'user', version: 1 });
    cache.invalidate('alice'); // nothing changed for alice
    cache.invalidate('bob');
    await new Promise((r) => setImmediate(r));
    expect(revoked).toEqual([]);
    stop();
    users.set('alice', { role: 'user', version: 2 });
    users.set('bob', { role: 'dba', version: 1 });
    cache.invalidate('alice');
    cache.invalidate('bob');
    await vi.waitFor(() => expect(revoked).toEqual(["a1: token revoked: the user's credentials changed; log in again", "b: token revoked: the user's role changed; log in again"]));
    expect(revocation.watchedUsers).toBe(2);
    revocation.close();
  });

  it('re-checks every watched user each TTL (the backstop of a missed notice), and keeps sockets while storage is down', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { cache, clock, users, state, loads } = setup(1000);
    const revocation = new SocketRevocation(cache);
    const revoked: string[] = [];
    revocation.watch({ sub: 'alice', cv: 1 }, 'user', (reason) => revoked.push(reason));
    await cache.current('alice');
    state.fail = true;
    clock.now = 1000;
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(loads).toEqual(['alice', 'alice']));
    await new Promise((r) => setImmediate(r));
    expect(revoked).toEqual([]);
    state.fail = false;
    users.delete('alice'); // dropped, and the notice was lost
    clock.now = 2000;
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(revoked).toEqual(['token revoked: the user no longer exists']));
    revocation.close();
  });

  it('re-checks all watched users with one load per tick: a dropped user, a changed version and a changed role are cut at the next tick, the others kept', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { cache, clock, users, loads } = setup(1000);
    for (const u of ['bob', 'carol', 'dave', 'erin']) users.set(u, { role: 'user', version: 1 });
    const revocation = new SocketRevocation(cache);
    const revoked: string[] = [];
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      expect(await revocation.admit({ sub: u, cv: 1 })).toEqual({ ok: true, caller: { userId: u, role: 'user' } });
      revocation.watch({ sub: u, cv: 1 }, 'user', (reason) => revoked.push(`${u}: ${reason}`));
    }
    expect(loads).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']); // one admission after the other
    // The notices of these changes were lost: only the TTL's re-check can see them.
    users.delete('bob');
    users.set('carol', { role: 'user', version: 2 });
    users.set('dave', { role: 'dba', version: 1 });
    clock.now = 999;
    await vi.advanceTimersByTimeAsync(999);
    expect(loads).toHaveLength(5);
    clock.now = 1000;
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() =>
      expect(revoked).toEqual(['bob: token revoked: the user no longer exists', "carol: token revoked: the user's credentials changed; log in again", "dave: token revoked: the user's role changed; log in again"]),
    );
    expect(loads.slice(5)).toEqual(['alice,bob,carol,dave,erin']);
    revocation.close();
  });
});

describe('MessageGate', () => {
  it('runs messages at once, or in order after a pending check', async () => {
    const gate = new MessageGate();
    const seen: string[] = [];
    gate.run(() => seen.push('1'));
    let pass!: () => void;
    const check = new Promise<void>((r) => (pass = r)).then(() => {
      seen.push('checked');
    });
    gate.hold(check);
    gate.run(() => seen.push('2'));
    gate.run(() => seen.push('3'));
    expect(seen).toEqual(['1']);
    pass();
    await vi.waitFor(() => expect(seen).toEqual(['1', 'checked', '2', '3']));
    gate.run(() => seen.push('4'));
    expect(seen).toEqual(['1', 'checked', '2', '3', '4']);
  });
});
