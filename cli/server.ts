import v8 from 'node:v8';
import { prepareDatabase } from '../db/index.ts';
import type { Role } from '../server/index.ts';
import { dataDirectory } from './data-dir.ts';

const SUMMARIES: Record<Role, string> = {
  standalone: 'API, dashboard, Git sync, scheduler and worker in one process (PGlite or PostgreSQL)',
  server: 'API, dashboard, flow webhooks and Git sync; executions go to workers (PostgreSQL)',
  scheduler: 'evaluates Schedule triggers and backfills (PostgreSQL)',
  worker: 'runs executions from the queue, BATON_WORKER_THREADS at a time (PostgreSQL)',
};

/** `baton <role>`: one process in that role, until SIGINT/SIGTERM; a second signal stops at once. */
export function roleCommand(role: Role) {
  return async function command(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`usage: baton ${role}   (${SUMMARIES[role]}; configuration from the environment: see docs/configuration.md)\n`);
      return 0;
    }
    if (argv.length) {
      process.stderr.write(`baton ${role}: unexpected arguments: ${argv.join(' ')}\n`);
      return 2;
    }
    // Listened for before starting: the server answers /healthz before its first sync ends, so a
    // signal may come while it starts; it then stops once started.
    const signalled = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    let server;
    holdYoungGenerationDuringStartUp(true);
    try {
      const dataDir = dataDirectory();
      // The embedded database's slow first steps (compile, write a new data directory) run on other
      // threads while the server's modules load: ~0.1–0.4 s of a standalone's start.
      if (role === 'standalone') await prepareDatabase({ url: process.env.DATABASE_URL || undefined, dataDir });
      const { startServer } = await import('../server/index.ts');
      server = await startServer({ dataDir, role });
    } catch (err) {
      process.stderr.write(`baton ${role}: ${(err as Error).message}\n`);
      return 1;
    } finally {
      holdYoungGenerationDuringStartUp(false);
    }
    await signalled;
    // A second signal while draining means "now": running executions are handed back at once.
    const now = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    }).then(() => server.close({ graceMs: 0 }));
    await Promise.race([server.close(), now]);
    return 0;
  };
}

export const ROLE_SUMMARIES = SUMMARIES;

/**
 * Start-up allocates in one burst (modules, the first sync, compiled validators) and V8 sizes its young
 * generation to that burst: ~20 MB more resident memory in an idle server until V8's memory reducer
 * shrinks it (~20 s later). Keeping it at its floor while starting (growth factor 1), then giving back
 * V8's default (2) so it grows under real load, made no measurable difference to the start-up time and
 * an idle standalone ~18 MB smaller. The flag is read at each growth decision.
 */
function holdYoungGenerationDuringStartUp(hold: boolean): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${hold ? 1 : 2}`);
}
