/** `baton` command line: one file per command, dispatched from this table. */

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'validate flow files or folders', load: async () => (await import('./validate.ts')).validateCommand },
  schema: { summary: "print or write the flows' JSON Schema for editors", load: async () => (await import('./schema.ts')).schemaCommand },
  run: { summary: 'run one flow locally', load: async () => (await import('./run.ts')).runCommand },
  standalone: { summary: 'API, dashboard, sync, scheduler and worker in one process', load: async () => (await import('./server.ts')).roleCommand('standalone') },
  server: { summary: 'API, dashboard, webhooks and Git sync; executions go to workers', load: async () => (await import('./server.ts')).roleCommand('server') },
  scheduler: { summary: 'evaluate Schedule triggers and backfills', load: async () => (await import('./server.ts')).roleCommand('scheduler') },
  worker: { summary: 'run executions from the queue (BATON_WORKER_THREADS)', load: async () => (await import('./server.ts')).roleCommand('worker') },
  sync: { summary: 'sync flows from Git once and print what changed', load: async () => (await import('./sync.ts')).syncCommand },
};

const USAGE = `usage: baton <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}
`;

/** Entry point; resolves to the process exit code (2 for usage errors). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`baton: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  return (await command.load())(rest);
}
