// The limits table of docs/security.md, generated from LIMIT_SPECS so the page cannot drift.
import { LIMIT_SPECS } from './limits.ts';

const MiB = 1024 * 1024;

function formatDefault(value: number, unit: string): string {
  if (unit === 'bytes' || unit === 'chars') {
    if (value % MiB === 0) return `${value / MiB} Mi${unit === 'bytes' ? 'B' : ' characters'}`;
    if (value % 1024 === 0) return `${value / 1024} Ki${unit === 'bytes' ? 'B' : ' characters'}`;
    return `${value} ${unit}`;
  }
  if (unit === 'ms') return value % 60_000 === 0 ? `${value / 60_000} min` : value % 1000 === 0 ? `${value / 1000} s` : `${value} ms`;
  return value.toLocaleString('en-US');
}

/** A Markdown table: variable, default, what it bounds. */
export function limitsMarkdownTable(): string {
  const rows = Object.values(LIMIT_SPECS).map((spec) => `| \`${spec.variable}\` | ${formatDefault(spec.default, spec.unit)} | ${spec.doc} |`);
  return ['| variable | default | what it bounds |', '|---|---|---|', ...rows].join('\n');
}
