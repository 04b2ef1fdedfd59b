// The progress store on PostgreSQL, for several backends sharing one database (ATELIER_PROGRESS_DATABASE_URL).
// node-postgres (`pg`): the maintained client, pure JavaScript, with a pool. Migrations run at open
// under a transaction-scoped advisory lock, so backends started together apply each one once; a database
// from a newer backend is refused rather than misread, as with the SQLite file.
import pg from 'pg';
import type { PassedCheck, ProgressStore } from './store.ts';

const MIGRATIONS = [
  `CREATE TABLE passed_checks (
     learner TEXT NOT NULL,
     lab TEXT NOT NULL,
     check_id TEXT NOT NULL,
     passed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (learner, lab, check_id)
   )`,
];
/** Any constant of our own: the lock that serializes migrations between backends. */
const MIGRATION_LOCK = 0x4a7e11e5;

export class PostgresProgressStore implements ProgressStore {
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects and migrates; fails with the server's reason when the database cannot be used. */
  static async open(connectionString: string): Promise<PostgresProgressStore> {
    // Bounded: a database that does not answer fails a request, never holds it for ever.
    const pool = new pg.Pool({ connectionString, max: 4, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    // An idle client whose server went away must not take the process down (pg emits 'error' on the pool).
    pool.on('error', () => {});
    const store = new PostgresProgressStore(pool);
    try {
      await store.#migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS atelier_schema (version INTEGER NOT NULL)');
      const row = (await client.query<{ version: number }>('SELECT version FROM atelier_schema')).rows[0];
      const version = row?.version ?? 0;
      if (version > MIGRATIONS.length) {
        throw new Error(`progress database schema ${version} is newer than this backend's (${MIGRATIONS.length}): upgrade the backend`);
      }
      for (let v = version; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!);
      if (!row) await client.query('INSERT INTO atelier_schema (version) VALUES ($1)', [MIGRATIONS.length]);
      else await client.query('UPDATE atelier_schema SET version = $1', [MIGRATIONS.length]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async recordPass(learner: string, lab: string, checkId: string): Promise<void> {
    await this.#pool.query(
      'INSERT INTO passed_checks (learner, lab, check_id, passed_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING',
      [learner, lab, checkId],
    );
  }

  async passed(learner: string): Promise<PassedCheck[]> {
    const { rows } = await this.#pool.query<{ lab: string; check_id: string; passed_at: Date }>(
      'SELECT lab, check_id, passed_at FROM passed_checks WHERE learner = $1 ORDER BY passed_at, lab, check_id',
      [learner],
    );
    return rows.map((r) => ({ lab: r.lab, checkId: r.check_id, at: r.passed_at }));
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }
}
