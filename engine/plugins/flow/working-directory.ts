import {
  copyNamespaceFiles, normalizeInputFiles, uploadOutputFiles, writeInputFiles,
} from '../../scripts/index.ts';
import { TaskList, Type } from '../../contract/index.ts';
import { NAMESPACE_FILES, namespaceFilesSpec } from '../scripts/exec-script.ts';
import { defineTask } from '../types.ts';

/**
 * io.kestra.plugin.core.flow.WorkingDirectory: its tasks share one directory, prepared with
 * `inputFiles`/`namespaceFiles` before and harvested with `outputFiles` after.
 */
export const workingDirectory = defineTask({
  type: 'io.kestra.plugin.core.flow.WorkingDirectory',
  aliases: ['io.kestra.core.tasks.flows.WorkingDirectory'],
  kind: 'flowable',
  title: 'Run tasks in a shared directory',
  description: 'Runs its `tasks` in one working directory they all share, so one can write files the next reads. The directory is prepared with `inputFiles` and `namespaceFiles` before, and the files matching `outputFiles` are kept in internal storage after.',
  properties: Type.Object({
    tasks: TaskList({ minItems: 1, description: 'The tasks sharing the directory.' }),
    errors: Type.Optional(TaskList({ description: 'Tasks to run when one fails.' })),
    inputFiles: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String()], { description: 'Files to write first: relative path → content or kestra:// URI.' })),
    outputFiles: Type.Optional(Type.Array(Type.String(), { description: 'Globs of the files to keep.' })),
    namespaceFiles: Type.Optional(NAMESPACE_FILES),
    cache: Type.Optional(Type.Object({ patterns: Type.Optional(Type.Array(Type.String())), ttl: Type.Optional(Type.String()) }, { description: 'Accepted for Kestra compatibility; Baton does not cache.' })),
  }),
  outputs: Type.Object({ outputFiles: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Kept files: relative path → kestra:// URI.' })) }),
  examples: [{ title: 'Write then read a file', code: 'id: shared\ntype: io.kestra.plugin.core.flow.WorkingDirectory\noutputFiles: ["out.txt"]\ntasks:\n  - id: write\n    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n    commands:\n      - echo hello > out.txt' }],
  async run(ctx) {
    const dir = await ctx.workingDirectory();
    const namespaceFiles = ctx.props.namespaceFiles ? namespaceFilesSpec(ctx.props.namespaceFiles) : undefined;
    if (namespaceFiles?.enabled) await copyNamespaceFiles(ctx, dir, namespaceFiles);
    if (ctx.props.inputFiles) await writeInputFiles(ctx, dir, normalizeInputFiles(ctx.props.inputFiles));
    await ctx.runTasks(ctx.props.tasks, { workingDirectory: dir });
    const outputFiles = await uploadOutputFiles(ctx, dir, ctx.props.outputFiles ?? []);
    return { outputs: ctx.props.outputFiles ? { outputFiles } : {} };
  },
});
