/**
 * `baton validate PATH... [--format text|json|github]`: validate flow files, or every `*.yml`/`*.yaml`
 * under folders, and report each problem at its file, line and column.
 * Exit 0 when every flow is valid, 1 when any has an error, 2 for a usage or IO error.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LimitConfigError, limitsFromEnv, type Limits } from '../config/index.ts';
import { fileSizeProblem, formatProblem, sortProblems, validateFlowSource, type FlowProblem } from '../engine/flow/index.ts';

const FORMATS = ['text', 'json', 'github'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: baton validate PATH... [--format text|json|github]

Validates flow files (or every *.yml / *.yaml under a folder). One line per problem:
  text    path:line:col: error: message   (default)
  json    one JSON array of problems {file, line, column, property, message, severity}
  github  ::error file=path,line=N,col=N::message   (GitHub Actions annotations)
Exit status: 0 all valid, 1 a flow is invalid, 2 usage or IO error.
Flows are held to the server's size limits: BATON_LIMIT_FLOW_FILE_BYTES, BATON_LIMIT_FLOW_TASKS and
BATON_LIMIT_FLOW_NESTING_DEPTH.
`;

class UsageError extends Error {}

function parseArgs(argv: string[]): { paths: string[]; format: Format; help: boolean } {
  const paths: string[] = [];
  let format: Format = 'text';
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--format' || arg.startsWith('--format=')) {
      const value = arg === '--format' ? argv[++i] : arg.slice('--format='.length);
      if (!FORMATS.includes(value as Format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}${value ? `, got '${value}'` : ''}`);
      format = value as Format;
    } else if (arg === '--') {
      paths.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option '${arg}'`);
    else paths.push(arg);
  }
  return { paths, format, help };
}

/** Flow files under `path`: the file itself, or every `*.yml`/`*.yaml` below a folder (hidden folders and node_modules skipped). */
async function flowFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      out.push(...(await flowFiles(child)));
    } else if (/\.ya?ml$/i.test(entry.name)) out.push(child);
  }
  return out;
}

/** GitHub workflow commands: data and property values need their own escaping. */
function githubEscape(text: string, property = false): string {
  let out = text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  if (property) out = out.replace(/:/g, '%3A').replace(/,/g, '%2C');
  return out;
}

function render(problem: FlowProblem, format: Format): string {
  if (format === 'github') {
    const file = githubEscape(problem.file ?? '', true);
    return `::${problem.severity} file=${file},line=${problem.line},col=${problem.column}::${githubEscape(problem.message)}`;
  }
  return formatProblem(problem);
}

/** `baton validate`: resolves to the exit code. */
export async function validateCommand(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`baton validate: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.paths.length === 0) {
    process.stderr.write(`baton validate: no flow file or folder given\n${USAGE}`);
    return 2;
  }
  let limits: Limits;
  try {
    limits = limitsFromEnv(process.env);
  } catch (error) {
    if (!(error instanceof LimitConfigError)) throw error;
    process.stderr.write(`baton validate: ${error.message}\n`);
    return 2;
  }

  let ioError = false;
  const files: string[] = [];
  for (const path of args.paths) {
    try {
      files.push(...(await flowFiles(path)));
    } catch (error) {
      ioError = true;
      process.stderr.write(`baton validate: cannot read ${path}: ${describeIoError(error)}\n`);
    }
  }

  const problems: FlowProblem[] = [];
  // namespace/id → where it was first defined, to refuse the same flow in two files.
  const defined = new Map<string, { file: string; line: number }>();
  for (const file of [...new Set(files)]) {
    let source: string;
    try {
      // An oversized file is refused by its size, as the sync refuses it, without reading it.
      const tooBig = fileSizeProblem((await stat(file)).size, limits, file);
      if (tooBig) {
        problems.push(tooBig);
        continue;
      }
      source = await readFile(file, 'utf8');
    } catch (error) {
      ioError = true;
      process.stderr.write(`baton validate: cannot read ${file}: ${describeIoError(error)}\n`);
      continue;
    }
    const result = validateFlowSource(source, file, { limits, encryptionKeyConfigured: Boolean(process.env.BATON_ENCRYPTION_KEY?.trim()) });
    problems.push(...result.problems);
    if (result.flow) {
      const key = `${result.flow.namespace}/${result.flow.id}`;
      const first = defined.get(key);
      const idLine = idPosition(source);
      if (first) {
        problems.push({
          file,
          ...idLine,
          property: 'id',
          message: `flow ${result.flow.namespace}.${result.flow.id} is also defined in ${first.file}:${first.line}`,
          severity: 'error',
        });
      } else defined.set(key, { file, line: idLine.line });
    }
  }

  const sorted = sortProblems(problems);
  if (args.format === 'json') process.stdout.write(`${JSON.stringify(sorted, null, 2)}\n`);
  else for (const problem of sorted) process.stdout.write(`${render(problem, args.format)}\n`);

  const errors = sorted.filter((p) => p.severity === 'error').length;
  const warnings = sorted.length - errors;
  const invalidFiles = new Set(sorted.filter((p) => p.severity === 'error').map((p) => p.file)).size;
  if (args.format === 'text' && files.length > 0) {
    process.stderr.write(
      `${files.length} flow file${files.length === 1 ? '' : 's'}: ${invalidFiles ? `${invalidFiles} invalid, ${errors} error${errors === 1 ? '' : 's'}` : 'all valid'}` +
        `${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
    );
  }
  if (ioError) return 2;
  return errors > 0 ? 1 : 0;
}

/** Where the top-level `id:` is written (a valid flow always has one). */
function idPosition(source: string): { line: number; column: number } {
  const lines = source.split('\n');
  const index = lines.findIndex((l) => /^["']?id["']?\s*:/.test(l));
  return index >= 0 ? { line: index + 1, column: 1 } : { line: 1, column: 1 };
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? (error as Error).message;
}
