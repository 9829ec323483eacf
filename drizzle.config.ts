import { defineConfig } from 'drizzle-kit';

/** `npm run db:generate` writes SQL migrations for db/schema.ts into migrations/ (committed). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './migrations',
});
