import { PluginRegistry } from '../contract/index.ts';
import type { TaskPlugin } from './types.ts';
import { fail } from './core/fail.ts';
import { httpDownload } from './core/http-download.ts';
import { httpRequest } from './core/http-request.ts';
import { kvDelete, kvGet, kvSet } from './core/kv.ts';
import { log } from './core/log.ts';
import { outputValues } from './core/output-values.ts';
import { purgeCurrentExecutionFiles } from './core/purge-current-execution-files.ts';
import { debugReturn } from './core/return.ts';
import { sleep } from './core/sleep.ts';
import { forEach } from './flow/for-each.ts';
import { ifTask } from './flow/if.ts';
import { parallel } from './flow/parallel.ts';
import { sequential } from './flow/sequential.ts';
import { subflow } from './flow/subflow.ts';
import { switchTask } from './flow/switch.ts';
import { workingDirectory } from './flow/working-directory.ts';
import { dbtCli } from './dbt/dbt-cli.ts';
import { bigqueryCreateDataset } from './gcp/bigquery-create-dataset.ts';
import { bigqueryLoad } from './gcp/bigquery-load.ts';
import { bigqueryQuery } from './gcp/bigquery-query.ts';
import { gcsCreateBucket } from './gcp/gcs-create-bucket.ts';
import { gcsDownload } from './gcp/gcs-download.ts';
import { gcsUpload } from './gcp/gcs-upload.ts';
import { gitClone } from './git/clone.ts';
import { duckdbQuery } from './jdbc/duckdb-query.ts';
import { postgresqlCopyIn } from './jdbc/postgresql-copy-in.ts';
import { postgresqlCopyOut } from './jdbc/postgresql-copy-out.ts';
import { postgresqlQueries } from './jdbc/postgresql-queries.ts';
import { postgresqlQuery } from './jdbc/postgresql-query.ts';
import { slackIncomingWebhook } from './notifications/slack-incoming-webhook.ts';
import { pythonCommands } from './scripts/python-commands.ts';
import { pythonScript } from './scripts/python-script.ts';
import { shellCommands } from './scripts/shell-commands.ts';
import { shellScript } from './scripts/shell-script.ts';

/**
 * Every task plugin. Adding a plugin is one file and one line here.
 */
const PLUGINS: readonly TaskPlugin[] = [
  // core
  log, debugReturn, outputValues, fail, sleep, kvSet, kvGet, kvDelete, purgeCurrentExecutionFiles,
  httpDownload, httpRequest,
  // scripts
  shellCommands, shellScript, pythonCommands, pythonScript,
  // data
  duckdbQuery,
  postgresqlQuery, postgresqlQueries, postgresqlCopyIn, postgresqlCopyOut,
  // google cloud
  gcsUpload, gcsDownload, gcsCreateBucket, bigqueryQuery, bigqueryLoad, bigqueryCreateDataset,
  // notifications
  slackIncomingWebhook,
  // git, dbt
  gitClone, dbtCli,
  // flowable
  sequential, parallel, ifTask, switchTask, forEach, subflow, workingDirectory,
];

/** Every task type, read by type string or alias. */
export const TASKS = new PluginRegistry<TaskPlugin>('task', PLUGINS);

/** The plugin for a type string (or one of its aliases), undefined when unknown. */
export function findPlugin(type: string): TaskPlugin | undefined {
  return TASKS.find(type);
}

/** All plugins, each once. */
export function allPlugins(): readonly TaskPlugin[] {
  return TASKS.all();
}

/** All accepted type strings, aliases included (for "did you mean" hints). */
export function allTypeNames(): string[] {
  return TASKS.names();
}
