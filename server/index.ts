/** The HTTP server: REST API, Git push hook and (later) the dashboard. */
export { createApp } from './app.ts';
export { HttpError } from './errors.ts';
export type { ServerDeps } from './deps.ts';
export { startServer, ROLES, RoleDatabaseError, type RunningServer, type Role } from './start.ts';
