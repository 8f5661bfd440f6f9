// Users benchmark (issue 15, "cost as users grow"): the claim that routing by ownership costs
// the same per change however many users are connected (docs/architecture.md §4). Against the
// real local stack, a fixed rate of single-row INSERTs (POST /v1/api/sql, open loop) spread over
// 50 active users, each with one WebSocket and one live-only subscription to its rows, while
// 10, 1,000, 10,000 and 50,000 other users hold idle subscriptions of the same query on the same
// gateway: one socket per idle user, opened by client processes (idle-clients.ts) from loopback
// addresses of their own (127.0.0.2, 127.0.0.3, …: one address has ~28k ephemeral ports).
// Per step: the gateway's CPU per delivered change and the latency from the write's
// acknowledgement to its delivery (p50, p99), and the gateway's RSS.
// Baseline in the same run (filter-all.ts): a process that receives every change of the table
// and evaluates every subscription on each with the same filter code, the design the seed
// argues against; its CPU per change at each step.
// The idle users are made in bulk by SQL in seqline.users (a password hash that matches no
// password: they cannot log in) and their access tokens minted with the stack's JWT secret, as
// the gateway's login would sign them; the gateway admits them as any token (the user must
// exist, with the token's credential version). Password hashing 50,000 users would take minutes.
// Every change must reach its active user's subscriber once; idle users must receive nothing.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TableDef } from '@seqline/domain';
import { waitFor } from '@seqline/testkit';
import postgres from 'postgres';
import { measureCpu, pidsOfTree, rssKb } from '../lib/cpu.ts';
import { GatewayInspector, inspectEnv } from '../lib/gateway-heap.ts';
import { setUpMessages, SqlClient } from '../lib/http.ts';
import { runLocalStack, type LocalStack } from '../lib/local-stack.ts';
import { Fleet, LIVE_SQL } from '../live/clients.ts';
import type { PhaseResult } from '../live/bench.ts';
import { insertMessage, PhaseLog, routeDelivery, writeMessages } from '../live/deliveries.ts';
import type { FilterCommand, FilterCounts, FilterReport } from './filter-all.ts';
import type { IdleCommand, IdleReport } from './idle-clients.ts';
import { reportUsers } from './report.ts';

const FULL = { active: 50, rate: 500, ms: 10_000, warmupMs: 2000, quietMs: 10_000, idle: [10, 1000, 10_000, 50_000], perProcess: 10_000 };
const SMOKE = { active: 4, rate: 40, ms: 1000, warmupMs: 300, quietMs: 300, idle: [3, 20], perProcess: 8 };
export type UsersConfig = typeof FULL;

/** The exact counts and the latency of a step, as the live benchmark's phases have them. */
export interface StepResult extends Pick<PhaseResult, 'offered' | 'acked' | 'failedWrites' | 'expected' | 'delivered' | 'duplicates' | 'foreign' | 'fromAck'> {
  readonly idle: number;
  /** The gateway's CPU over the step, ms, and its RSS at the end, KiB. */
  readonly gatewayCpuMs: number;
  /** The gateway's CPU per second with no writes at all at this step (what the users cost by themselves), ms. */
  readonly quietCpuMsPerS: number;
  readonly gatewayRssKb: number;
  /** The baseline over the step: changes it received, subscriptions it evaluated and matched, its CPU (ms). */
  readonly baseline: { readonly changes: number; readonly evaluated: number; readonly matched: number; readonly cpuMs: number };
  readonly wallMs: number;
}

export interface UsersBenchResult {
  readonly steps: readonly StepResult[];
  /** Changes the idle users received (must be 0). */
  readonly idleChanges: number;
  readonly errors: readonly string[];
}

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD_ARGV = ['--conditions=@seqline/source', '--import', 'tsx'];
/** Access tokens of the idle users last this long (the bench takes minutes). */
const TOKEN_TTL_S = 24 * 3600;
/** File descriptors the gateway keeps for everything but idle sockets (active sockets, NATS, gRPC, HTTP, logs), with room to spare. */
const FILES_KEPT = 1000;

/** A directory for a CPU profile of the gateway over each step's quiet period (`quiet-<idle users>.cpuprofile`). */
export const QUIET_PROFILE_ENV = 'SEQLINE_BENCH_QUIET_PROFILE';

/** Comma-separated idle user counts to run instead of the configured steps (e.g. one step to profile). */
export const USERS_STEPS_ENV = 'SEQLINE_BENCH_USERS_IDLE';

export async function runUsersBench({ smoke }: { smoke: boolean }): Promise<UsersBenchResult> {
  const steps = process.env[USERS_STEPS_ENV];
  const wanted = { ...(smoke ? SMOKE : FULL), ...(steps === undefined ? {} : { idle: steps.split(',').map(Number) }) };
  // The gateway needs a file descriptor per socket: a step it cannot hold is cut to what it can
  // (and said so), rather than failing the run.
  const files = await raiseFileLimit(Math.max(...wanted.idle) + 10_000);
  const most = files - FILES_KEPT;
  const c = { ...wanted, idle: [...new Set(wanted.idle.map((n) => Math.min(n, most)))] };
  if (c.idle.join() !== wanted.idle.join()) console.log(`the open-file limit is ${files} and cannot be raised here: the gateway holds at most ${most} idle users' sockets, so the steps are ${c.idle.join(', ')}`);
  // Idle sockets ping as the SDK does (every 4 s). The silence timeout is 60 s rather than the
  // default 10 s: opening thousands of sockets on a loaded machine stalls the gateway for seconds,
  // and the pings' cost depends on their rate, not on the timeout.
  const profiles = process.env[QUIET_PROFILE_ENV];
  await using stack = await runLocalStack({ env: { SEQLINE_WS_IDLE_MS: '60000', ...(profiles === undefined ? {} : inspectEnv()) } });
  const bench = new UsersBench(stack, c, profiles);
  try {
    const result = await bench.run();
    reportUsers(result, c, smoke);
    return result;
  } finally {
    await bench.close();
  }
}

class UsersBench {
  readonly #logs: PhaseLog[] = [];
  /** The idle users' client processes, the k-th holding users k × perProcess… from 127.0.0.(2 + k). */
  readonly #clients: { readonly child: ChildProcess; users: number }[] = [];
  #baseline: ChildProcess | undefined;
  /** The active users' access tokens (user i's at i). */
  #tokens: readonly string[] = [];
  #nextChange = 0;
  /** Deliveries of changes no step wrote, and what went wrong: both must stay empty. */
  #strays = 0;
  readonly #errors: string[] = [];
  readonly #http: SqlClient;

  constructor(
    readonly stack: LocalStack,
    readonly config: UsersConfig,
    readonly profiles: string | undefined,
  ) {
    this.#http = new SqlClient(stack.url, 100);
  }

  async run(): Promise<UsersBenchResult> {
    const { active, idle } = this.config;
    const tokens = await setUpMessages(this.#http, this.stack, active);
    this.#tokens = tokens;
    const idleTokens = await this.#makeIdleUsers(Math.max(...idle));
    const table = await this.#tableDef();
    this.#baseline = forkChild('filter-all.ts');
    await ask<FilterReport>(this.#baseline, { type: 'start', natsUrl: this.stack.natsUrl ?? '', subjects: 'seqline.changes.*.bench.messages', table, sql: LIVE_SQL } satisfies FilterCommand, 'started');
    await this.#addToBaseline(Array.from({ length: active }, (_, i) => `user${i}`));
    const fleet = await Fleet.open(this.stack.url, tokens, active, (g, n, at) => this.#onChange(g, n, at));
    const steps: StepResult[] = [];
    try {
      await fleet.subscribe(1);
      let held = 0;
      for (const count of idle) {
        await this.#addIdle(held, count, idleTokens);
        await this.#addToBaseline(Array.from({ length: count - held }, (_, i) => idleUser(held + i)));
        held = count;
        const quietCpuMsPerS = await this.#quiet(count);
        await this.#step(count, this.config.warmupMs); // the writes and deliveries warmed up at this size
        const step = { ...(await this.#step(count, this.config.ms)), quietCpuMsPerS };
        steps.push(step);
        console.log(`step of ${count} idle users: ${JSON.stringify({ ...step, gatewayUsPerChange: (1000 * step.gatewayCpuMs) / step.delivered, baselineUsPerChange: (1000 * step.baseline.cpuMs) / step.baseline.changes })}`);
      }
    } finally {
      await fleet.close();
    }
    let idleChanges = 0;
    for (const { child } of this.#clients) {
      const closed = await ask<IdleReport>(child, { type: 'close' } satisfies IdleCommand, 'closed', 120_000);
      if (closed.type === 'closed') {
        idleChanges += closed.changes;
        this.#errors.push(...closed.errors);
      }
    }
    this.#clients.length = 0;
    const errors = [...this.#errors, ...fleet.errors, ...(this.#strays > 0 ? [`${this.#strays} deliveries of changes no step wrote`] : [])];
    return { steps, idleChanges, errors };
  }

  /** Ends the child processes still running and the HTTP client. */
  async close(): Promise<void> {
    this.#http.close();
    for (const child of [...this.#clients.map((c) => c.child), ...(this.#baseline === undefined ? [] : [this.#baseline])]) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
    }
  }

  /** Users idle0… in seqline.users (no password matches their hash), and an access token for each. */
  async #makeIdleUsers(count: number): Promise<string[]> {
    const sql = postgres(this.stack.postgresUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`INSERT INTO seqline.users (user_id, password_hash, role) SELECT 'idle' || g, '!bench: no password', 'user' FROM generate_series(0, ${count - 1}::int) AS g`;
    } finally {
      await sql.end();
    }
    const iat = Math.floor(Date.now() / 1000);
    return Array.from({ length: count }, (_, i) => accessToken(this.stack.jwtSecret, { sub: idleUser(i), role: 'user', token_type: 'access', iat, exp: iat + TOKEN_TTL_S, cv: 1 }));
  }

  async #tableDef(): Promise<TableDef> {
    const sql = postgres(this.stack.postgresUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ def: TableDef | string }[]>`SELECT def FROM seqline.tables WHERE def->>'namespace' = 'bench' AND def->>'name' = 'messages'`;
      if (row === undefined) throw new Error('bench.messages is not in the catalog');
      return typeof row.def === 'string' ? (JSON.parse(row.def) as TableDef) : row.def;
    } finally {
      await sql.end();
    }
  }

  /** Opens idle users from…to-1's sockets, each client process holding `perProcess` users from its own address. */
  async #addIdle(from: number, to: number, tokens: readonly string[]): Promise<void> {
    const opening: Promise<IdleReport>[] = [];
    for (let u = from; u < to; ) {
      const k = Math.floor(u / this.config.perProcess);
      const end = Math.min(to, (k + 1) * this.config.perProcess);
      this.#clients[k] ??= { child: forkChild('idle-clients.ts'), users: 0 };
      const client = this.#clients[k];
      const command: IdleCommand = { type: 'open', url: this.stack.url, localAddress: `127.0.0.${2 + k}`, tokens: tokens.slice(u, end), sql: LIVE_SQL };
      opening.push(ask<IdleReport>(client.child, command, 'ready', 600_000));
      client.users += end - u;
      u = end;
    }
    await Promise.all(opening);
  }

  async #addToBaseline(users: readonly string[]): Promise<void> {
    for (let i = 0; i < users.length; i += 5000) await ask<FilterReport>(this.#baseline!, { type: 'add', users: users.slice(i, i + 5000) } satisfies FilterCommand, 'counts', 300_000);
  }

  async #baselineCounts(): Promise<FilterCounts> {
    const r = await ask<FilterReport>(this.#baseline!, { type: 'read' } satisfies FilterCommand, 'counts');
    if (r.type !== 'counts') throw new Error('the baseline did not answer with its counts');
    return r;
  }

  /** The gateway's CPU per second over quietMs without writes (profiled when asked). */
  async #quiet(idle: number): Promise<number> {
    const cpu = await measureCpu(this.stack.pid);
    const start = performance.now();
    if (this.profiles === undefined) await sleep(this.config.quietMs);
    else {
      await using inspector = await GatewayInspector.connect(this.stack.logDir);
      await inspector.cpuProfile(join(this.profiles, `quiet-${idle}.cpuprofile`), () => sleep(this.config.quietMs));
    }
    return ((await cpu.stop()).get('gateway') ?? 0) / ((performance.now() - start) / 1000);
  }

  /** Writes for `ms` at the configured rate; waits (with a deadline) for every delivery and for the baseline to have every change. */
  async #step(idle: number, ms: number): Promise<Omit<StepResult, 'quietCpuMsPerS'>> {
    const { active, rate } = this.config;
    const log = new PhaseLog(this.#nextChange, Math.round((rate * ms) / 1000), active, active, (g) => g);
    this.#logs.push(log);
    this.#nextChange = log.end;
    const [gateway] = await pidsOfTree(this.stack.pid, 'gateway');
    if (gateway === undefined) throw new Error('no gateway process in the local stack');
    const baselineBefore = await this.#baselineCounts();
    const cpu = await measureCpu(this.stack.pid);
    const start = performance.now();
    const failedWrites = await writeMessages(log, (n) => insertMessage(this.#http, this.#tokens[n % active]!, n), rate, ms);
    const expected = log.expected;
    await waitFor(() => log.delivered >= expected, { timeoutMs: Math.max(10_000, ms), intervalMs: 20 }).catch(() => false);
    const wallMs = performance.now() - start;
    const gatewayCpuMs = (await cpu.stop()).get('gateway') ?? 0;
    let baselineAfter = await this.#baselineCounts();
    await waitFor(async () => (baselineAfter = await this.#baselineCounts()).changes - baselineBefore.changes >= log.acked, { timeoutMs: 60_000, intervalMs: 50 }).catch(() => false);
    return {
      idle,
      ...log.counts(failedWrites),
      fromAck: log.latency('ack'),
      gatewayCpuMs,
      gatewayRssKb: await rssKb(gateway),
      baseline: {
        changes: baselineAfter.changes - baselineBefore.changes,
        evaluated: baselineAfter.evaluated - baselineBefore.evaluated,
        matched: baselineAfter.matched - baselineBefore.matched,
        cpuMs: baselineAfter.cpuMs - baselineBefore.cpuMs,
      },
      wallMs,
    };
  }

  #onChange(g: number, n: number, at: number): void {
    if (!routeDelivery(this.#logs, g, n, at)) this.#strays++;
  }
}

function idleUser(i: number): string {
  return `idle${i}`;
}

/** An HS256 access token with the gateway's claims (services/gateway/src/jwt.ts). */
function accessToken(secret: string, claims: { sub: string; role: string; token_type: 'access'; iat: number; exp: number; cv: number }): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${payload}.${createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')}`;
}

function forkChild(file: string): ChildProcess {
  return fork(resolve(import.meta.dirname, file), [], { cwd: ROOT, execArgv: CHILD_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Sends `command` to a child; resolves with its next report of type `want` (or `failed`, which rejects). */
function ask<R extends { readonly type: string }>(child: ChildProcess, command: object, want: R['type'], timeoutMs = 30_000): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`a bench child did not answer ${JSON.stringify(want)} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (r: R): void => {
      if (r.type === want) finish(undefined, r);
      else if (r.type === 'failed') finish(new Error(`a bench child failed: ${(r as { message?: string }).message ?? ''}`));
    };
    const onExit = (code: number | null): void => finish(new Error(`a bench child exited with ${code}`));
    function finish(err: Error | undefined, r?: R): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err === undefined) resolve(r!);
      else reject(err);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(command);
  });
}

/**
 * Raises this process's open-file limit (its children inherit it) to at least `files` if it can
 * (prlimit: root with CAP_SYS_RESOURCE, or a hard limit that allows it); resolves with the limit.
 */
async function raiseFileLimit(files: number): Promise<number> {
  const soft = async (): Promise<number> => Number(/^Max open files\s+(\d+)/m.exec(await readFile('/proc/self/limits', 'utf8'))?.[1] ?? 0);
  const now = await soft();
  if (now >= files) return now;
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${files}:${files}`], { stdio: 'ignore' });
  } catch {
    // Not allowed here: the limit stays.
  }
  return soft();
}
