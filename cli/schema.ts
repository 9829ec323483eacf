/**
 * `baton schema [--out FILE]`: the JSON Schema of a flow, every registered task, trigger, condition
 * and task runner included, for editors (`# yaml-language-server: $schema=FILE`). Printed, or written
 * to FILE. Exit 0, or 2 for a usage or write error.
 */
import { writeFile } from 'node:fs/promises';
import { flowJsonSchema } from '../engine/flow/index.ts';

const USAGE = `usage: baton schema [--out FILE]

Prints the JSON Schema of a flow file (every task, trigger, condition and task runner type with its
properties), or writes it to FILE. Point an editor at it:
  # yaml-language-server: $schema=FILE
`;

/** `baton schema`: resolves to the exit code. */
export async function schemaCommand(argv: string[]): Promise<number> {
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (arg === '--out' || arg.startsWith('--out=')) {
      out = arg === '--out' ? argv[++i] : arg.slice('--out='.length);
      if (!out) {
        process.stderr.write(`baton schema: --out needs a file name\n${USAGE}`);
        return 2;
      }
    } else {
      process.stderr.write(`baton schema: unknown argument '${arg}'\n${USAGE}`);
      return 2;
    }
  }
  const text = `${JSON.stringify(flowJsonSchema(), null, 2)}\n`;
  if (!out) {
    // A reader that stops early (`| head`) is not an error.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
    process.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(out, text);
  } catch (error) {
    process.stderr.write(`baton schema: cannot write ${out}: ${(error as Error).message}\n`);
    return 2;
  }
  process.stderr.write(`wrote the flow JSON Schema to ${out}\n`);
  return 0;
}
