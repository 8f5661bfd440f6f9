// `seqline login`: logs in and saves the session (never the password) for the gateway's URL,
// which becomes the default URL of later commands.
import type { ConnectionFlags } from './args.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';
import { gatewayUrl, login } from './session.js';

export async function runLogin(flags: ConnectionFlags, io: Io): Promise<void> {
  const saved = await io.credentials.load();
  const url = gatewayUrl(flags, io.env, saved);
  const user = flags.user ?? (io.env['SEQLINE_USER'] || undefined) ?? (await ask(io, 'user', false, '--user or SEQLINE_USER'));
  const password = flags.password ?? (io.env['SEQLINE_PASSWORD'] || undefined) ?? (await ask(io, `password for ${user}`, true, '--password or SEQLINE_PASSWORD'));
  const session = await login(io.fetch, url, user, password);
  const latest = await io.credentials.load(); // another command may have saved meanwhile
  await io.credentials.save({ current: url, sessions: { ...latest.sessions, [url]: session } });
  io.out(`logged in to ${url} as ${user} (session saved in ${io.credentials.path})\n`);
}

/** Asks on the terminal; without one, the missing value is a usage error. */
async function ask(io: Io, label: string, hidden: boolean, flags: string): Promise<string> {
  if (io.prompt === undefined) throw new UsageError(`no ${label.split(' ')[0]}: give ${flags} (stdin is not a terminal to ask on)`, 'login');
  const answer = await io.prompt(`${label}: `, hidden);
  const value = hidden ? answer : answer.trim(); // a password is taken as typed
  if (value === '') throw new UsageError(`no ${label.split(' ')[0]} given`, 'login');
  return value;
}
