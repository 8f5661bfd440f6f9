// The example support dashboard (examples/dashboard) in the local stack: its demo data (namespace
// app, app.tickets, the demo agents and their tickets) seeded through the gateway once, and its
// page built (into the data directory) and served on SEQLINE_DASHBOARD_PORT, calling the gateway
// from the browser.
import { buildDashboard, DEMO_AGENTS, seedDemo, serveDashboard, type DashboardServer } from '@seqline/dashboard';

export interface LocalDashboardOptions {
  readonly gatewayUrl: string;
  readonly admin: { readonly user: string; readonly password: string };
  /** The demo agents' password (kept in <data dir>/secrets.json). */
  readonly agentPassword: string;
  readonly port: number;
  /** The page is built into this stack's own directory, so stacks running side by side never share files. */
  readonly outDir: string;
}

export interface LocalDashboard {
  readonly server: DashboardServer;
  readonly agents: readonly string[];
  /** Why the demo data could not be seeded (the page is served anyway). */
  readonly seedError: string | undefined;
}

export async function startDashboard(options: LocalDashboardOptions): Promise<LocalDashboard> {
  const seeding = seedDemo({ url: options.gatewayUrl, admin: options.admin, password: options.agentPassword }).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  const [seedError, dir] = await Promise.all([seeding, buildDashboard(options.outDir)]);
  const server = await serveDashboard({ dir, gatewayUrl: options.gatewayUrl, port: options.port });
  return { server, agents: DEMO_AGENTS, seedError };
}
