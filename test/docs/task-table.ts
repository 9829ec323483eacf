// The task, trigger and condition tables of docs/tasks.md, generated from the engine's registries so
// the page cannot drift from what a flow may use (docs.test.ts compares; generated-sections.ts writes).
import { allConditions, allPlugins, allTriggers } from '../../engine/index.ts';

/** What the tables read of a plugin: the fields every plugin kind shares (engine/contract). */
interface Listed {
  type: string;
  title: string;
  aliases?: readonly string[];
  deprecated?: string;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function table(plugins: readonly Listed[]): string {
  const rows = plugins.map((p) => {
    const also = (p.aliases ?? []).map((alias) => `\`${alias}\``).join(', ');
    const title = p.deprecated ? `${p.title} (deprecated: ${p.deprecated})` : p.title;
    return `| \`${p.type}\` | ${cell(title)} | ${also} |`;
  });
  return ['| type | what it does | also accepted as (older names) |', '|---|---|---|', ...rows].join('\n');
}

/** The Markdown between the task-table markers of docs/tasks.md. */
export function taskTableMarkdown(): string {
  return [
    `### Tasks (${allPlugins().length})`, '', table(allPlugins()), '',
    `### Triggers (${allTriggers().length})`, '', table(allTriggers()), '',
    `### Trigger conditions (${allConditions().length})`, '', table(allConditions()),
  ].join('\n');
}
