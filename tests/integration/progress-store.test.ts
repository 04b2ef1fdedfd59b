// One contract for every progress store, run on the embedded SQLite file and on a real PostgreSQL server
// (Debian's, started here): what a learner passed is kept, once, in order, apart from other learners,
// across a reopen, and seen by every backend that shares the database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PostgresProgressStore } from '../../server/progress/postgres.ts';
import { SqliteProgressStore } from '../../server/progress/sqlite.ts';
import type { ProgressStore } from '../../server/progress/store.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { testProgressDb } from '../helpers/server.ts';

interface Backing {
  /** a new, empty database; `open` opens a store on it (again and again, as backends do) */
  fresh(): Promise<{ open(): Promise<ProgressStore>; makeNewer(): Promise<void> }>;
}

const files: string[] = [];
const sqlite: Backing = {
  async fresh() {
    const file = testProgressDb();
    files.push(file);
    return {
      open: async () => new SqliteProgressStore(file),
      async makeNewer() {
        const { DatabaseSync } = await import('node:sqlite');
        const db = new DatabaseSync(file);
        db.exec('PRAGMA user_version = 99');
        db.close();
      },
    };
  },
};

let server: TestPostgres | undefined;
const postgres: Backing = {
  async fresh() {
    server ??= await startPostgres();
    const url = await server.newDatabase();
    return {
      open: () => PostgresProgressStore.open(url),
      async makeNewer() {
        const c = new pg.Client(url);
        await c.connect();
        await c.query('UPDATE atelier_schema SET version = 99');
        await c.end();
      },
    };
  },
};

after(async () => {
  await server?.stop();
  for (const f of files) for (const suffix of ['', '-wal', '-shm']) rmSync(`${f}${suffix}`, { force: true });
});

for (const [name, backing] of [
  ['SQLite (embedded, the default)', sqlite],
  ['PostgreSQL (shared by several backends)', postgres],
] as const) {
  describe(`progress store: ${name}`, () => {
    let db: Awaited<ReturnType<Backing['fresh']>>;
    let store: ProgressStore;
    const learner = () => `l-${randomBytes(6).toString('hex')}`;

    before(async () => {
      db = await backing.fresh();
      store = await db.open();
    });
    after(async () => store?.close());

    test('a learner who passed nothing has nothing', async () => {
      assert.deepEqual(await store.passed(learner()), []);
    });

    test('passes are kept oldest first; passing again keeps the first time and is no error', async () => {
      const me = learner();
      await store.recordPass(me, 'nginx-remote', 'local-502');
      const first = (await store.passed(me))[0]!.at;
      await store.recordPass(me, 'apache-remote', 'page');
      await store.recordPass(me, 'nginx-remote', 'local-502');
      const passed = await store.passed(me);
      assert.deepEqual(passed.map((p) => `${p.lab}/${p.checkId}`).sort(), ['apache-remote/page', 'nginx-remote/local-502']);
      assert.equal(passed.find((p) => p.lab === 'nginx-remote')!.at.getTime(), first.getTime(), 'the first time is kept');
      // Oldest first; passes within one clock tick (a millisecond in SQLite) by lab then check.
      const order = (a: (typeof passed)[number], b: (typeof passed)[number]) =>
        a.at.getTime() - b.at.getTime() || a.lab.localeCompare(b.lab) || a.checkId.localeCompare(b.checkId);
      assert.deepEqual([...passed].sort(order), passed, 'in order');
    });

    test('learners are apart; bytes of any kind are data, never SQL', async () => {
      const [a, b] = [learner(), `x'); DROP TABLE passed_checks; --${learner()}`];
      await store.recordPass(a, 'lab', 'c1');
      await store.recordPass(b, "l'ab", 'c\u0000'.replace('\u0000', '2'));
      assert.deepEqual(
        (await store.passed(a)).map((p) => p.checkId),
        ['c1'],
      );
      assert.deepEqual(
        (await store.passed(b)).map((p) => `${p.lab}/${p.checkId}`),
        ["l'ab/c2"],
      );
    });

    test('two stores on one database (two backends), opened at once: each sees what the other recorded', async () => {
      const [one, two] = await Promise.all([db.open(), db.open()]);
      try {
        const me = learner();
        await one.recordPass(me, 'nginx-remote', 'remote-ok');
        assert.deepEqual(
          (await two.passed(me)).map((p) => p.checkId),
          ['remote-ok'],
        );
        await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).recordPass(me, 'nginx-remote', `c${i % 5}`)));
        assert.equal((await one.passed(me)).length, 6, 'each check once, whoever recorded it');
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    test('closed and opened again (a restart): everything is still there', async () => {
      const me = learner();
      await store.recordPass(me, 'apache-local', 'page');
      await store.close();
      store = await db.open();
      assert.deepEqual(
        (await store.passed(me)).map((p) => p.checkId),
        ['page'],
      );
    });

    test('a database written by a newer backend is refused, not misread', async () => {
      const other = await backing.fresh();
      await (await other.open()).close();
      await other.makeNewer();
      await assert.rejects(other.open(), /schema 99 is newer than this backend's \(1\): upgrade the backend/);
    });
  });
}
