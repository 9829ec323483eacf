import { startServer } from '../server/index.ts';
import { dataDirectory } from './data-dir.ts';

/** `baton server`: API, Git push hook and an initial sync; runs until SIGINT/SIGTERM. */
export async function serverCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: baton server   (configuration from the environment: see README)\n');
    return 0;
  }
  if (argv.length) {
    process.stderr.write(`baton server: unexpected arguments: ${argv.join(' ')}\n`);
    return 2;
  }
  let server;
  try {
    server = await startServer({ dataDir: dataDirectory() });
  } catch (err) {
    process.stderr.write(`baton server: ${(err as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
