// A throwaway PostgreSQL server for a test file: Debian's own binaries (on every machine of this kind),
// a fresh cluster in a temporary directory, loopback only, stopped and deleted afterwards. PostgreSQL
// refuses to run as root, so it runs as the `postgres` system user when the test runs as root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { outputMatching } from './wait.ts';

export interface TestPostgres {
  /** postgres://atelier@127.0.0.1:{port}/{database} of a new, empty database */
  newDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function binaries(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  if (!version) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (Debian package postgresql)');
  return join(root, version, 'bin');
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'atelier-pg-'));
  const user: { uid?: number; gid?: number } = userInfo().uid === 0 ? postgresUser() : {};
  if (user.uid !== undefined && user.gid !== undefined) chownSync(dir, user.uid, user.gid);

  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'atelier', '--no-sync', '-E', 'UTF8'], {
    encoding: 'utf8',
    ...user,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...user },
  );
  await outputMatching(server.stderr!, /ready to accept connections/, 30_000);
  server.stderr!.resume(); // its log is not read further, and must not fill the pipe

  let n = 0;
  const url = (db: string) => `postgres://atelier@127.0.0.1:${port}/${db}`;
  return {
    async newDatabase() {
      const name = `test_${process.pid}_${++n}`;
      const admin = new pg.Client(url('postgres'));
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGINT'); // fast shutdown
        await once(server, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
