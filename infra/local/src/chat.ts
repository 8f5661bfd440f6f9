// The example chat (examples/chat) in the local stack: its tables, demo users and rooms seeded
// through the gateway once, its relay running as the `service` account chat_relay, and its page
// built (into the data directory) and served on SEQLINE_CHAT_PORT, calling the gateway from the
// browser.
import { buildChat, DEMO_USERS, RELAY_USER, seedChat, startRelay, type Relay } from '@seqline/chat';
import { serveDashboard, type DashboardServer } from '@seqline/dashboard';

export interface LocalChatOptions {
  readonly gatewayUrl: string;
  readonly admin: { readonly user: string; readonly password: string };
  /** The demo users' password (the dashboard's, kept in <data dir>/secrets.json). */
  readonly password: string;
  /** The relay account's password (kept there too). */
  readonly relayPassword: string;
  readonly port: number;
  readonly outDir: string;
}

export interface LocalChat {
  readonly server: DashboardServer;
  /** Undefined when the demo data could not be seeded. */
  readonly relay: Relay | undefined;
  readonly users: readonly string[];
  readonly seedError: string | undefined;
}

export async function startChat(options: LocalChatOptions): Promise<LocalChat> {
  const seeding = seedChat({ url: options.gatewayUrl, admin: options.admin, password: options.password, relayPassword: options.relayPassword }).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  const [seedError, dir] = await Promise.all([seeding, buildChat(options.outDir)]);
  // A fetch waits at most 2 s for a message, so stopping the stack waits no longer for the relay.
  const relay = seedError === undefined ? startRelay({ url: options.gatewayUrl, auth: { user: RELAY_USER, password: options.relayPassword }, waitMs: 2000 }) : undefined;
  const server = await serveDashboard({ dir, gatewayUrl: options.gatewayUrl, port: options.port });
  return { server, relay, users: DEMO_USERS, seedError };
}
