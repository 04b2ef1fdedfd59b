// The one place that picks the progress store: PostgreSQL when several backends share it
// (ATELIER_PROGRESS_DATABASE_URL), else the embedded SQLite file.
import { PostgresProgressStore } from './postgres.ts';
import { SqliteProgressStore } from './sqlite.ts';
import type { ProgressStore } from './store.ts';

export function openProgressStore(opts: { progressDatabase: string; progressDatabaseUrl: string | null }): Promise<ProgressStore> {
  if (opts.progressDatabaseUrl) return PostgresProgressStore.open(opts.progressDatabaseUrl);
  return Promise.resolve(new SqliteProgressStore(opts.progressDatabase));
}
