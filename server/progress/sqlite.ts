// The progress store in one SQLite file under the server's data directory (node:sqlite, in Node
// itself: no native addon to build). Migrations run in order at open, each in a transaction, and the
// file records the last one applied; a file from a newer backend is refused rather than misread.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { PassedCheck, ProgressStore } from './store.ts';

const MIGRATIONS = [
  `CREATE TABLE passed_checks (
     learner TEXT NOT NULL,
     lab TEXT NOT NULL,
     check_id TEXT NOT NULL,
     passed_at INTEGER NOT NULL,
     PRIMARY KEY (learner, lab, check_id)
   ) WITHOUT ROWID`,
];

export class SqliteProgressStore implements ProgressStore {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // Several processes may open the file (a restart overlapping the old one): wait rather than fail.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
    this.#migrate();
  }

  #migrate(): void {
    const version = Number((this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    if (version > MIGRATIONS.length) {
      throw new Error(`progress database schema ${version} is newer than this backend's (${MIGRATIONS.length}): upgrade the backend`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.#db.exec('BEGIN');
      try {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw err;
      }
    }
  }

  async recordPass(learner: string, lab: string, checkId: string): Promise<void> {
    this.#db
      .prepare('INSERT INTO passed_checks (learner, lab, check_id, passed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(learner, lab, checkId, Date.now());
  }

  async passed(learner: string): Promise<PassedCheck[]> {
    const rows = this.#db
      .prepare('SELECT lab, check_id, passed_at FROM passed_checks WHERE learner = ? ORDER BY passed_at, lab, check_id')
      .all(learner) as { lab: string; check_id: string; passed_at: number }[];
    return rows.map((r) => ({ lab: r.lab, checkId: r.check_id, at: new Date(r.passed_at) }));
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
