import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { limitsFromEnv } from '../config/index.ts';
import { openDatabase } from '../db/index.ts';
import {
  createEngine, exitCodeOf, FlowFolderError, loadFlowFolder, StaticFlowSource,
  type Execution, type LogEntry,
} from '../engine/index.ts';
import { formatProblem, validateFlowSource } from '../engine/flow/index.ts';
import { InputValidationError } from '../engine/inputs/index.ts';
import { DirectoryNamespaceFiles } from '../engine/namespace-files/index.ts';
import { dataDirectory } from './data-dir.ts';

const USAGE = 'usage: baton run FILE [--flows DIR] [--input key=value]... [--namespace-files DIR] [--json]';

/**
 * `baton run`: validates one flow file and runs it locally to its end.
 * Exit 0 SUCCESS/WARNING, 1 FAILED/KILLED/CANCELLED, 2 invalid flow, invalid inputs or usage.
 */
export async function runCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        flows: { type: 'string' },
        input: { type: 'string', multiple: true },
        'namespace-files': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`baton run: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.positionals.length !== 1) {
    process.stderr.write(`baton run: expected exactly one flow file\n${USAGE}\n`);
    return 2;
  }
  const file = args.positionals[0];
  const json = args.values.json === true;
  const err = (text: string) => process.stderr.write(`${text}\n`);

  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    err(`baton run: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return 2;
  }
  const { flow, problems } = validateFlowSource(source, file, { limits: limitsFromEnv(process.env) });
  const errors = problems.filter((p) => p.severity === 'error');
  if (!flow || errors.length) {
    for (const p of errors) err(formatProblem(p));
    return 2;
  }

  const inputs: Record<string, unknown> = {};
  for (const pair of args.values.input ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      err(`baton run: --input expects key=value, got '${pair}'`);
      return 2;
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const def = flow.inputs?.find((i) => i.id === key);
    // FILE inputs take `@path` for a local file, as curl does.
    inputs[key] = def?.type === 'FILE' && value.startsWith('@')
      ? { fileName: basename(value.slice(1)), data: { file: resolve(value.slice(1)) } }
      : value;
  }

  let flows = new StaticFlowSource();
  if (args.values.flows) {
    try {
      flows = await loadFlowFolder(args.values.flows);
    } catch (e) {
      if (e instanceof FlowFolderError) {
        for (const line of e.problems) err(line);
        return 2;
      }
      err(`baton run: cannot read --flows ${args.values.flows}: ${(e as Error).message}`);
      return 2;
    }
  }
  flows.add(flow);

  const database = await openDatabase({ dataDir: dataDirectory() });
  try {
    const engine = createEngine({
      db: database.db,
      dataDir: dataDirectory(),
      flows,
      namespaceFiles: args.values['namespace-files']
        ? new DirectoryNamespaceFiles({ root: resolve(args.values['namespace-files']), namespace: flow.namespace })
        : undefined,
    });
    const logs: LogEntry[] = [];
    engine.onLog((entry) => {
      logs.push(entry);
      if (!json) process.stdout.write(formatLogLine(entry));
    });
    let execution: Execution;
    try {
      execution = await engine.execute({ flow, inputs });
    } catch (e) {
      if (e instanceof InputValidationError) {
        err(`${file}: invalid inputs:`);
        for (const problem of e.problems) err(`  ${problem.inputId}: ${problem.message}`);
        return 2;
      }
      throw e;
    }
    await engine.idle();
    if (json) process.stdout.write(`${JSON.stringify({ execution, logs })}\n`);
    else process.stdout.write(summary(execution));
    return exitCodeOf(execution.state.current);
  } finally {
    await database.close();
  }
}

function formatLogLine(e: LogEntry): string {
  const where = e.taskId ? `[${e.taskId}] ` : '';
  return `${e.timestamp} ${e.level.padEnd(5)} ${where}${e.message}\n`;
}

function summary(e: Execution): string {
  const lines = [
    '',
    `execution ${e.id}  ${e.namespace}.${e.flowId} rev ${e.flowRevision}  ${e.state.current}  ${e.state.duration ?? ''}`,
  ];
  for (const t of e.taskRunList) {
    const value = t.value ? `[${t.value}]` : '';
    const attempts = t.attempts.length > 1 ? `  (${t.attempts.length} attempts)` : '';
    lines.push(`  ${t.state.current.padEnd(9)} ${t.taskId}${value}  ${t.state.duration ?? ''}${attempts}`);
  }
  if (e.outputs && Object.keys(e.outputs).length) lines.push(`outputs: ${JSON.stringify(e.outputs)}`);
  return `${lines.join('\n')}\n`;
}
