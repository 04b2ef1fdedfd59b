// The provider contract: what the lab manager relies on, run against every SandboxProvider here: the
// Docker provider on the real engine, and the in-memory fake the manager's unit tests use (so a unit
// test on the fake proves something about Docker too). A new provider (Kubernetes) adds a subject.
// docs/providers.md lists the rules these tests check.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { parseLab, type Lab } from '../../sandbox/labs/schema.ts';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import {
  HostNotFoundError,
  LabClaimedError,
  LabCreateError,
  LabNotFoundError,
  newLabId,
  type CreationPhase,
  type SandboxProvider,
  type TerminalSession,
} from '../../server/sandbox/provider.ts';
import { FakeEngine, FakeProvider } from '../helpers/fake-provider.ts';
import { outputMatching, within } from '../helpers/wait.ts';

/** One engine under test. */
interface Subject {
  name: string;
  /** a provider on the engine (a new one each call: another backend, or the same one restarted) */
  provider(): SandboxProvider;
  /** the host stops behind the provider's back (engine restart, PID 1 killed) */
  stopHost(labId: string, host: string): Promise<void>;
  /** something starts listening on a host's port */
  serve(provider: SandboxProvider, labId: string, host: string, port: number): Promise<void>;
  teardown(): Promise<void>;
}

const kind = (id: string, boot: string[] = ['true']): Lab =>
  parseLab(`test:${id}`, {
    id,
    title: id,
    chapter: 'test',
    hosts: [
      { name: 'web', boot, capabilities: ['CHOWN', 'DAC_OVERRIDE', 'SETUID', 'SETGID', 'NET_BIND_SERVICE', 'KILL'] },
      { name: 'db', boot: ['true'] },
    ],
    preview: { host: 'web', port: 80 },
  });
const LAB = kind('contract-lab');
const BROKEN = kind('contract-broken', ['true', 'echo doomed >&2; exit 7']);
const hour = () => new Date(Date.now() + 3_600_000);

function fakeSubject(): Subject {
  const engine = new FakeEngine();
  return {
    name: 'in-memory fake',
    provider: () => new FakeProvider({ engine }),
    stopHost: async (labId, host) => engine.stopHost(labId, host),
    serve: async (_p, labId, host, port) => engine.listen(labId, host, port, true),
    teardown: async () => engine.shutdown(),
  };
}

function dockerSubject(): Subject {
  const scope = `contract-${newLabId().slice(0, 8)}`;
  const config = loadConfig({ ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  const docker = new Docker();
  const made: DockerProvider[] = [];
  return {
    name: 'Docker (real engine)',
    provider: () => {
      const p = new DockerProvider({ config, log: () => {} });
      made.push(p);
      return p;
    },
    stopHost: async (labId, host) => void (await docker.getContainer(`atelier-test-${labId}-${host}`).kill()),
    serve: async (p, labId, host) => {
      const r = await p.exec(labId, host, 'nginx');
      assert.equal(r.exitCode, 0, r.stderr);
    },
    teardown: async () => {
      const p = made[0]!;
      for (const lab of await p.listLabs()) await p.destroyLab(lab.labId).catch(() => {});
      for (const each of made) await each.close();
    },
  };
}

/** An HTTP GET over a stream from connect(): what the preview proxy does. */
function getOver(stream: Duplex, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ path, createConnection: () => stream, headers: { host: 'localhost', connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** connect() to a closed port: a rejection, or a stream that fails or ends before any byte. */
async function refused(provider: SandboxProvider, labId: string, host: string, port: number): Promise<boolean> {
  let stream: Duplex;
  try {
    stream = await provider.connect(labId, host, port);
  } catch {
    return true;
  }
  return new Promise((resolve) => {
    stream.once('data', () => resolve(false));
    stream.once('error', () => resolve(true));
    stream.once('end', () => resolve(true));
    stream.end('GET / HTTP/1.0\r\n\r\n');
  });
}

/** What the shell answers to a command (the answer, not the echo of the command, must match `re`). */
function answer(session: TerminalSession, command: string, re: RegExp): Promise<string> {
  const seen = outputMatching(session.output, re, 10_000);
  session.write(`${command}\r`);
  return seen;
}

function contract(subject: Subject): void {
  describe(`provider contract: ${subject.name}`, () => {
    let provider: SandboxProvider;
    const owner = `learner-${newLabId().slice(0, 6)}`;
    let labId = '';

    before(async () => {
      provider = subject.provider();
      await provider.init();
    });
    after(() => subject.teardown());

    test('createLab: ready with every host running, its steps told in order, found again by owner, id and kind', async () => {
      const phases: CreationPhase[] = [];
      labId = newLabId();
      const expiresAt = hour();
      const lab = await provider.createLab({ labId, owner, definition: LAB, expiresAt, progress: (p) => phases.push(p) });
      assert.equal(lab.state, 'ready');
      assert.deepEqual(
        lab.hosts.map((h) => [h.name, h.state]),
        [
          ['web', 'running'],
          ['db', 'running'],
        ],
      );
      assert.deepEqual(phases, ['network', 'containers', 'services']);
      assert.equal(lab.owner, owner);
      assert.equal(lab.expiresAt.getTime(), expiresAt.getTime(), 'expiry kept to the millisecond');
      for (const filter of [{ owner }, { labId }, { owner, definitionId: LAB.id }]) {
        assert.deepEqual(
          (await provider.listLabs(filter)).map((l) => l.labId),
          [labId],
          JSON.stringify(filter),
        );
      }
      assert.deepEqual(await provider.listLabs({ owner: `${owner}-other` }), []);
      assert.equal((await provider.getLab(labId))?.definitionId, LAB.id);
      assert.equal(await provider.getLab(newLabId()), undefined, 'an unknown id');
      assert.equal(await provider.getLab('../../etc'), undefined, 'a malformed id');
    });

    test('a restarted backend (a new provider on the same engine) finds the lab, with the same identity', async () => {
      const again = subject.provider();
      const found = await again.getLab(labId);
      const first = await provider.getLab(labId);
      assert.deepEqual(found, first);
    });

    test('exec: output, exit code, the environment and working directory given, unknown hosts refused', async () => {
      const r = await provider.exec(labId, 'web', 'printf "%s|%s" "$ROLE" "$(pwd)"; echo oops >&2; exit 3', {
        env: { ROLE: 'web server' },
        workdir: '/tmp',
      });
      assert.deepEqual(r, { exitCode: 3, stdout: 'web server|/tmp', stderr: 'oops\n', timedOut: false });
      await assert.rejects(provider.exec(labId, 'nope', 'true'), HostNotFoundError);
      await assert.rejects(
        provider.exec(newLabId(), 'web', 'true'),
        (e: Error) => e instanceof HostNotFoundError || e instanceof LabNotFoundError,
      );
    });

    test('exec: a command past its time is killed, and said to be', async () => {
      const started = Date.now();
      const r = await provider.exec(labId, 'db', 'sleep 20', { timeoutMs: 500 });
      assert.equal(r.timedOut, true);
      assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    });

    test('openTerminal: a TTY of the size asked, resized, with the environment given; close hangs up, once', async () => {
      const session = await provider.openTerminal(labId, 'web', { cols: 91, rows: 27, env: { ROLE: 'tty' }, workdir: '/tmp' });
      session.output.resume();
      await answer(session, 'stty size', /[\r\n]27 91\r?\n/);
      await session.resize(120, 40);
      await answer(session, 'stty size', /[\r\n]40 120\r?\n/);
      await answer(session, 'echo "[$ROLE]" "$(pwd)"', /[\r\n]\[tty\] \/tmp\r?\n/);
      await session.close();
      const exit = await within(session.exited, 10_000, 'the shell ends after close()');
      assert.ok(exit.exitCode === null || typeof exit.exitCode === 'number');
      await session.close(); // idempotent
      await assert.rejects(provider.openTerminal(labId, 'nope', { cols: 80, rows: 24 }), HostNotFoundError);
    });

    test("hangUpStrayTerminals: a backend's own shells stay; another run's shells are hung up", async () => {
      const mine = await provider.openTerminal(labId, 'db', { cols: 80, rows: 24 });
      mine.output.resume(); // read, as the gateway does: a shell's end comes after its output
      assert.equal(await provider.hangUpStrayTerminals(), 0, 'nothing of its own');
      const restarted = subject.provider();
      const swept = await restarted.hangUpStrayTerminals();
      assert.ok(swept >= 1, `${swept} shell(s) hung up`);
      await within(mine.exited, 10_000, 'the previous run’s shell ends');
    });

    test('connect: a stream to a host’s port once something listens there; refused before; unknown hosts refused', async () => {
      assert.equal(await refused(provider, labId, 'web', 80), true, 'nothing listens yet');
      await subject.serve(provider, labId, 'web', 80);
      const page = await getOver(await provider.connect(labId, 'web', 80), '/');
      assert.equal(page.status, 200);
      const second = await getOver(await provider.connect(labId, 'web', 80), '/again');
      assert.ok(second.status > 0, 'a fresh stream per call');
      await assert.rejects(provider.connect(labId, 'nope', 80), HostNotFoundError);
    });

    test('a host stopped behind its back: the lab is stopped, its host unusable; resetLab brings it back with its identity', async () => {
      const before = (await provider.getLab(labId))!;
      await subject.stopHost(labId, 'db');
      const stopped = (await provider.getLab(labId))!;
      assert.equal(stopped.state, 'stopped');
      assert.equal(stopped.hosts.find((h) => h.name === 'db')?.state, 'stopped');
      await assert.rejects(provider.exec(labId, 'db', 'true'), HostNotFoundError);
      const phases: CreationPhase[] = [];
      const reset = await provider.resetLab(labId, LAB, (p) => phases.push(p));
      assert.equal(reset.state, 'ready');
      assert.deepEqual(phases, ['network', 'containers', 'services']);
      for (const field of ['labId', 'owner', 'definitionId'] as const) assert.equal(reset[field], before[field], field);
      assert.equal(reset.createdAt.getTime(), before.createdAt.getTime());
      assert.equal(reset.expiresAt.getTime(), before.expiresAt.getTime());
      assert.equal((await provider.exec(labId, 'db', 'echo back')).stdout, 'back\n');
      await assert.rejects(provider.resetLab(newLabId(), LAB), LabNotFoundError);
    });

    test('a warm-pool lab: created without an owner, claimed once, then it is the learner’s', async () => {
      const poolId = newLabId();
      await assert.rejects(provider.createLab({ labId: poolId, owner: 'x', pooled: true, definition: LAB, expiresAt: hour() }), RangeError);
      const pooled = await provider.createLab({ labId: poolId, owner: '', pooled: true, definition: LAB, expiresAt: hour() });
      assert.equal(pooled.pooled, true);
      assert.equal(pooled.owner, '');
      const expiresAt = hour();
      const claimed = await provider.claimLab(poolId, `${owner}-pool`, expiresAt);
      assert.equal(claimed.owner, `${owner}-pool`);
      assert.ok(!claimed.pooled);
      await assert.rejects(provider.claimLab(poolId, `${owner}-late`, hour()), LabClaimedError);
      await assert.rejects(provider.claimLab(labId, `${owner}-late`, hour()), LabClaimedError, 'a learner’s lab is no pool lab');
      await assert.rejects(provider.claimLab(newLabId(), `${owner}-late`, hour()), LabNotFoundError);
      const found = await subject.provider().listLabs({ owner: `${owner}-pool` });
      assert.deepEqual(
        found.map((l) => [l.labId, l.state, l.expiresAt.getTime()]),
        [[poolId, 'ready', expiresAt.getTime()]],
        'the claim is in the engine',
      );
      await provider.destroyLab(poolId);
    });

    test('a creation that fails throws LabCreateError naming the command, and leaves nothing behind', async () => {
      const failed = newLabId();
      await assert.rejects(
        provider.createLab({ labId: failed, owner, definition: BROKEN, expiresAt: hour() }),
        (e: Error) => e instanceof LabCreateError && e.message.includes('exit 7'),
      );
      assert.deepEqual(await provider.listLabs({ labId: failed }), []);
    });

    test('destroyLab removes everything; again, or an unknown or malformed id, is no error', async () => {
      await provider.destroyLab(labId);
      assert.equal(await provider.getLab(labId), undefined);
      await assert.rejects(provider.exec(labId, 'web', 'true'), HostNotFoundError);
      await provider.destroyLab(labId);
      await provider.destroyLab(newLabId());
      await provider.destroyLab('not a lab id');
      assert.equal((await provider.healthy()).ok, true);
    });
  });
}

contract(fakeSubject());
contract(dockerSubject());
