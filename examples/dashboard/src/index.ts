// @seqline/dashboard: the example support dashboard. The browser app lives in src/browser (built
// by buildDashboard); Node gets the build, the static server and the demo seed.
export { buildDashboard, DASHBOARD_FILES, DEFAULT_DIST } from './build.js';
export { serveDashboard, type DashboardServer, type ServeOptions } from './server.js';
export { DEMO_AGENTS, ignoreExisting, seedDemo, TICKETS_DDL, type SeedOptions } from './seed.js';
export { TICKETS_SQL } from './view.js';
