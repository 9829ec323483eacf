import type { TaskDef } from '../../flow/types.ts';
import {
  copyNamespaceFiles, normalizeInputFiles, uploadOutputFiles, writeInputFiles, type NamespaceFilesSpec,
} from '../../scripts/index.ts';
import type { TaskPlugin } from '../types.ts';
import { optionalTaskListSchema, taskListSchema } from './task-list-schema.ts';

interface WorkingDirectoryProps {
  tasks: TaskDef[];
  inputFiles?: Record<string, unknown> | string;
  outputFiles?: string[];
  namespaceFiles?: NamespaceFilesSpec;
}

/**
 * io.kestra.plugin.core.flow.WorkingDirectory: its tasks share one directory, prepared with
 * `inputFiles`/`namespaceFiles` before and harvested with `outputFiles` after.
 */
export const workingDirectory: TaskPlugin<WorkingDirectoryProps> = {
  type: 'io.kestra.plugin.core.flow.WorkingDirectory',
  aliases: ['io.kestra.core.tasks.flows.WorkingDirectory'],
  kind: 'flowable',
  title: 'Run tasks in a shared directory',
  properties: {
    tasks: taskListSchema,
    errors: optionalTaskListSchema,
    inputFiles: { anyOf: [{ type: 'object' }, { type: 'string' }] },
    outputFiles: { type: 'array', items: { type: 'string' } },
    namespaceFiles: { type: 'object' },
    cache: { type: 'object' },
  },
  required: ['tasks'],
  taskLists: [{ property: 'tasks', shape: 'list' }, { property: 'errors', shape: 'list' }],
  async run(ctx) {
    const dir = await ctx.workingDirectory();
    if (ctx.props.namespaceFiles?.enabled) await copyNamespaceFiles(ctx, dir, ctx.props.namespaceFiles);
    if (ctx.props.inputFiles) await writeInputFiles(ctx, dir, normalizeInputFiles(ctx.props.inputFiles));
    await ctx.runTasks(ctx.props.tasks, { workingDirectory: dir });
    const outputFiles = await uploadOutputFiles(ctx, dir, ctx.props.outputFiles ?? []);
    return { outputs: ctx.props.outputFiles ? { outputFiles } : {} };
  },
};
