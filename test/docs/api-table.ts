// The route table of docs/api.md, generated from the OpenAPI document the server answers at
// /api/v1/openapi.json (itself checked against the routes the app registers, test/api/metrics-openapi).
import { openApiDocument } from '../../server/routes/openapi.ts';

interface Operation {
  summary: string;
  security?: unknown[];
}

/** The Markdown between the api-table markers of docs/api.md: one row per method and path. */
export function apiTableMarkdown(): string {
  const paths = openApiDocument().paths as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, op]) => {
      // An empty `security` marks the routes outside the API credentials (they carry their own, or none).
      const access = Array.isArray(op.security) && op.security.length === 0 ? 'open' : 'token or session';
      return `| \`${method.toUpperCase()}\` | \`${path}\` | ${op.summary.replace(/\|/g, '\\|')} | ${access} |`;
    }));
  return ['| method | path | what it does | access |', '|---|---|---|---|', ...rows].join('\n');
}
