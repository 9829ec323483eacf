import { join } from 'node:path';
import type { Context } from 'hono';
import nunjucks from 'nunjucks';

const VIEWS = join(import.meta.dirname, '..', '..', 'views');

/**
 * The nunjucks environment of the dashboard. Autoescape is on: everything shown comes from flows,
 * logs and outputs that users control.
 */
export const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS, { noCache: process.env.NODE_ENV === 'development' }), {
  autoescape: true,
  throwOnUndefined: false,
});

views.addFilter('shortSha', (sha: unknown) => (typeof sha === 'string' ? sha.slice(0, 8) : ''));
views.addFilter('json', (value: unknown) => JSON.stringify(value, null, 2));

/** True when htmx asked: answer with the fragment only, not the whole page (htmx restoring history wants the page). */
export function isHtmx(c: Context): boolean {
  return c.req.header('HX-Request') === 'true' && c.req.header('HX-History-Restore-Request') !== 'true';
}

/** Renders a full page (extends `layout.njk`) or, for htmx requests, the given fragment. */
export function page(c: Context, template: string, context: Record<string, unknown>, fragment?: string) {
  const base = { csrfToken: c.get('csrfToken' as never), user: c.get('user' as never), dashboardOpen: c.get('dashboardOpen' as never), path: c.req.path };
  const name = fragment && isHtmx(c) ? fragment : template;
  // The same URL answers a page or a fragment: caches must tell them apart.
  if (fragment) c.header('Vary', 'HX-Request');
  return c.html(views.render(name, { ...base, ...context }));
}
