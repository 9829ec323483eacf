/**
 * STAND-IN for the dbt CLI, for Baton's tests only. dbt cannot be installed on the test machine (no
 * PyPI, not packaged by Debian), so this script imitates the parts of a dbt invocation that Baton's
 * DbtCLI task depends on, and nothing else — it runs no SQL and connects to no database:
 *
 * - the command line: `dbt <run|test|build|seed|compile|deps|debug|--version>` with `--project-dir`,
 *   `--profiles-dir`, `--log-format json|text|debug`, `--log-path`, `--target`;
 * - the lookups: `dbt_project.yml` in the project dir, `profiles.yml` in `--profiles-dir`,
 *   `$DBT_PROFILES_DIR`, the current directory, then `~/.dbt`, holding the project's `profile`;
 * - the output: dbt's structured JSON log lines (`{"info": {...}, "data": {...}}`) on stdout, a
 *   `target/run_results.json` and `target/manifest.json` shaped like dbt 1.8's (schema v6 and v12),
 *   a `dbt.log` under the log path, and dbt's exit codes (0 ok, 1 a node failed, 2 usage/config error).
 *
 * Nodes are the project's `models/**.sql`, `seeds/*.csv` and `tests/*.sql`. A file containing
 * `stand-in: error`, `stand-in: fail` or `stand-in: warn` gets that status; everything else succeeds.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';

const DBT_VERSION = '1.8.0';
const invocationId = randomUUID();
const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith('-')) ?? (args.includes('--version') ? 'version' : 'help');
const option = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const logFormat = option('--log-format') ?? 'text';
const projectDir = resolve(option('--project-dir') ?? process.cwd());
const logPath = resolve(option('--log-path') ?? join(projectDir, 'logs'));
const started = new Date();

function log(level, name, msg, data = {}) {
  const ts = new Date().toISOString();
  if (logFormat === 'json') {
    const info = { category: '', code: 'Z000', extra: {}, invocation_id: invocationId, level, msg, name, pid: process.pid, thread: 'MainThread', ts };
    process.stdout.write(JSON.stringify({ info, data }) + '\n');
  } else {
    process.stdout.write(`${ts.slice(11, 19)}  ${msg}\n`);
  }
  try {
    mkdirSync(logPath, { recursive: true });
    appendFileSync(join(logPath, 'dbt.log'), `${ts} [${level}] ${msg}\n`);
  } catch {
    // The log file is a courtesy; dbt itself carries on without it.
  }
}

function fail(code, message) {
  log('error', 'MainEncounteredError', message);
  process.exit(code);
}

if (command === 'version') {
  process.stdout.write(`Core:\n  - installed: ${DBT_VERSION} (Baton test stand-in)\n`);
  process.exit(0);
}
log('info', 'MainReportVersion', `Running with dbt=${DBT_VERSION} (Baton test stand-in)`, { version: `=${DBT_VERSION}` });
if (!['run', 'test', 'build', 'seed', 'compile', 'deps', 'debug'].includes(command)) fail(2, `Unknown command '${command}'`);

const projectFile = join(projectDir, 'dbt_project.yml');
if (!existsSync(projectFile)) fail(2, `Runtime Error\n  No dbt_project.yml found at expected path ${projectFile}`);
const projectYaml = readFileSync(projectFile, 'utf8');
const yamlValue = (text, key) => new RegExp(`^${key}:\\s*['"]?([^'"\\n#]+?)['"]?\\s*$`, 'm').exec(text)?.[1];
const projectName = yamlValue(projectYaml, 'name') ?? 'project';
const profileName = yamlValue(projectYaml, 'profile') ?? projectName;

if (command === 'deps') {
  log('info', 'DepsNoPackagesFound', 'Warning: No packages were found in packages.yml');
  process.exit(0);
}

const profilesDirs = [option('--profiles-dir'), process.env.DBT_PROFILES_DIR, process.cwd(), join(homedir(), '.dbt')].filter(Boolean);
const profilesDir = profilesDirs.find((dir) => existsSync(join(dir, 'profiles.yml')));
if (!profilesDir) fail(2, `Runtime Error\n  Could not find profile named '${profileName}' (no profiles.yml in ${profilesDirs.join(', ')})`);
const profiles = readFileSync(join(profilesDir, 'profiles.yml'), 'utf8');
if (!new RegExp(`^${profileName}:`, 'm').test(profiles)) fail(2, `Runtime Error\n  Could not find profile named '${profileName}'`);
const adapter = /^\s+type:\s*(\S+)/m.exec(profiles)?.[1] ?? 'duckdb';
const target = option('--target') ?? /^\s+target:\s*(\S+)/m.exec(profiles)?.[1] ?? 'dev';
log('info', 'AdapterRegistered', `Registered adapter: ${adapter}=${DBT_VERSION}`);
if (command === 'debug') {
  log('info', 'DebugCmdOut', 'All checks passed!');
  process.exit(0);
}

function files(dir, extension) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, extension);
    return name.endsWith(extension) ? [path] : [];
  });
}
const node = (resourceType, path) => ({
  resourceType,
  path,
  name: basename(path).replace(/\.(sql|csv)$/, ''),
  uniqueId: `${resourceType}.${projectName}.${basename(path).replace(/\.(sql|csv)$/, '')}`,
  source: readFileSync(path, 'utf8'),
});
const selected = {
  run: ['model'],
  compile: ['model'],
  seed: ['seed'],
  test: ['test'],
  build: ['seed', 'model', 'test'],
}[command];
const all = [
  ...files(join(projectDir, 'seeds'), '.csv').map((p) => node('seed', p)),
  ...files(join(projectDir, 'models'), '.sql').map((p) => node('model', p)),
  ...files(join(projectDir, 'tests'), '.sql').map((p) => node('test', p)),
];
const nodes = all.filter((n) => selected.includes(n.resourceType));
log('info', 'FoundStats', `Found ${all.filter((n) => n.resourceType === 'model').length} models, ${all.filter((n) => n.resourceType === 'test').length} data tests, ${all.filter((n) => n.resourceType === 'seed').length} seeds`);

const results = [];
const stats = { pass: 0, warn: 0, error: 0, skip: 0 };
nodes.forEach((n, index) => {
  const begin = new Date();
  const marker = /stand-in:\s*(error|fail|warn)/.exec(n.source)?.[1];
  const isTest = n.resourceType === 'test';
  const rows = n.resourceType === 'seed' ? Math.max(0, n.source.trim().split('\n').length - 1) : 3;
  let status = isTest ? 'pass' : 'success';
  let message = isTest ? null : n.resourceType === 'seed' ? `INSERT ${rows}` : 'OK';
  let failures = isTest ? 0 : null;
  let level = 'info';
  if (marker === 'error') {
    status = 'error';
    message = `Runtime Error in ${n.resourceType} ${n.name} (${relative(projectDir, n.path)})\n  Binder Error: stand-in failure requested by the file`;
    level = 'error';
  } else if (marker === 'fail' && isTest) {
    status = 'fail';
    failures = 3;
    message = 'Got 3 results, configured to fail if != 0';
    level = 'error';
  } else if (marker === 'warn' && isTest) {
    status = 'warn';
    failures = 1;
    message = 'Got 1 result, configured to warn if != 0';
    level = 'warn';
  }
  stats[status === 'success' || status === 'pass' ? 'pass' : status === 'fail' ? 'error' : status] += 1;
  const done = new Date(begin.getTime() + 10);
  const label = { pass: 'PASS', success: 'OK', warn: 'WARN', fail: 'FAIL', error: 'ERROR' }[status];
  log(level, isTest ? 'LogTestResult' : 'LogModelResult', `${index + 1} of ${nodes.length} ${label} ${n.resourceType} ${n.name} [${label} in 0.01s]`, {
    node_info: { unique_id: n.uniqueId, node_status: status },
    status,
  });
  results.push({
    status,
    timing: [
      { name: 'compile', started_at: begin.toISOString(), completed_at: begin.toISOString() },
      { name: 'execute', started_at: begin.toISOString(), completed_at: done.toISOString() },
    ],
    thread_id: 'Thread-1 (worker)',
    execution_time: 0.01,
    adapter_response: isTest ? {} : { _message: message ?? 'OK', code: n.resourceType === 'seed' ? 'INSERT' : 'OK', rows_affected: rows },
    message,
    failures,
    unique_id: n.uniqueId,
    compiled: n.resourceType !== 'seed',
    compiled_code: n.resourceType === 'seed' ? null : n.source,
    relation_name: isTest ? null : `"memory"."main"."${n.name}"`,
    batch_results: null,
  });
});

const elapsed = (Date.now() - started.getTime()) / 1000;
const targetDir = join(projectDir, 'target');
mkdirSync(targetDir, { recursive: true });
const metadata = (schema) => ({
  dbt_schema_version: `https://schemas.getdbt.com/dbt/${schema}.json`,
  dbt_version: DBT_VERSION,
  generated_at: new Date().toISOString(),
  invocation_id: invocationId,
  env: {},
});
const manifestNodes = Object.fromEntries(
  all.map((n) => [
    n.uniqueId,
    {
      database: 'memory',
      schema: 'main',
      name: n.name,
      resource_type: n.resourceType,
      package_name: projectName,
      path: relative(join(projectDir, `${n.resourceType}s`), n.path),
      original_file_path: relative(projectDir, n.path),
      unique_id: n.uniqueId,
      fqn: [projectName, n.name],
      alias: n.name,
      depends_on: { macros: [], nodes: [] },
      raw_code: n.source,
    },
  ]),
);
writeFileSync(
  join(targetDir, 'manifest.json'),
  JSON.stringify({
    metadata: { ...metadata('manifest/v12'), project_name: projectName, adapter_type: adapter },
    nodes: manifestNodes,
    sources: {},
    macros: {},
    exposures: {},
    metrics: {},
    parent_map: Object.fromEntries(all.map((n) => [n.uniqueId, []])),
    child_map: Object.fromEntries(all.map((n) => [n.uniqueId, []])),
  }),
);
if (command !== 'compile') {
  writeFileSync(
    join(targetDir, 'run_results.json'),
    JSON.stringify({
      metadata: metadata('run-results/v6'),
      results,
      elapsed_time: elapsed,
      args: { which: command, project_dir: projectDir, profiles_dir: profilesDir, target, log_format: logFormat, invocation_command: `dbt ${args.join(' ')}` },
    }),
  );
}
const total = results.length;
log('info', 'EndOfRunSummary', `Finished running ${total} nodes in 0 hours 0 minutes and ${elapsed.toFixed(2)} seconds (${elapsed.toFixed(2)}s).`);
const summary = `Done. PASS=${stats.pass} WARN=${stats.warn} ERROR=${stats.error} SKIP=${stats.skip} TOTAL=${total}`;
log('info', 'StatsLine', summary, { stats: { ...stats, total } });
process.exit(stats.error > 0 ? 1 : 0);
