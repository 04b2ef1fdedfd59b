// The lab panel's lifecycle without a page (site/islands/lab/lifecycle.ts): check, start, reset, a lab
// that is still starting (its steps, and a bound that always ends it), expiry, failures and
// « Réessayer », operations in turn, and the state badge its terminals add up to (badge.ts), against a
// fake lab API and a fake clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LabApiError, type LabInfo } from '../../site/islands/lab/api.ts';
import { stateBadge, terminalsBadge } from '../../site/islands/lab/badge.ts';
import type { ConnectionState } from '../../site/islands/lab/connection.ts';
import { LabLifecycle, type LabApi, type LifecycleView } from '../../site/islands/lab/lifecycle.ts';
import { START_LABEL, STATE_LABEL, STATE_LABEL_ELSEWHERE, TEXT } from '../../site/islands/lab/strings.ts';
import type { StartProgress } from '../../protocol/lab-start.ts';

const NAME = 'nginx-remote';

function info(labId: string, state: LabInfo['state'] = 'ready', progress?: StartProgress): LabInfo {
  return {
    name: NAME,
    labId,
    title: 'PHP-FPM distant avec Nginx',
    hosts: ['web', 'php'],
    state,
    previewUrl: `http://localhost:4322/p/${labId}/`,
    expiresAt: 0,
    ...(progress && { progress }),
  };
}

/** A lab still starting, at a step. */
const at = (labId: string, phase: StartProgress['phase'], ahead?: number) =>
  info(labId, 'starting', ahead === undefined ? { phase } : { phase, ahead });

/** An answer that never comes. */
const never = () => new Promise<never>(() => {});

type Answer = LabInfo | null | Error | Promise<LabInfo | null>;

/** A lab API answering from lists (one answer per call, the last one repeated), recording its calls. */
function fakeApi(answers: { get?: Answer[]; create?: Answer[]; reset?: Answer[] }) {
  const calls: string[] = [];
  const next = (kind: 'get' | 'create' | 'reset') => {
    calls.push(kind);
    const list = answers[kind] ?? [];
    const a = list.length > 1 ? list.shift()! : list[0];
    if (a === undefined) throw new Error(`no ${kind} answer`);
    if (a instanceof Error) return Promise.reject(a);
    return Promise.resolve(a);
  };
  const api: LabApi = {
    getLab: () => next('get'),
    createLab: () => next('create') as Promise<LabInfo>,
    resetLab: () => next('reset') as Promise<LabInfo>,
  };
  return { api, calls };
}

/** A lifecycle with recording hooks; `holding` follows attach like the panel's registry does. */
function harness(api: LabApi, options: { elsewhere?: boolean } = {}) {
  const views: LifecycleView[] = [];
  const events: string[] = [];
  let holding = false;
  let now = 0;
  const sleeps: number[] = [];
  /** the bounds of questions under way: they fire when the fake clock passes them */
  const timers = new Set<{ at: number; fire: () => void }>();
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers) if (t.at <= now) timers.delete(t), t.fire();
  };
  const lab = new LabLifecycle({
    name: NAME,
    api,
    hooks: {
      attach: (i, changed) => {
        events.push(`attach ${i.labId}${changed ? ' (new)' : ''}`);
        holding = true;
      },
      detach: (gone) => events.push(gone ? 'detach, gone' : 'detach'),
      holding: () => holding,
      heldElsewhere: () => options.elsewhere ?? false,
      show: (v) => views.push(v),
    },
    startTimeoutMs: 10_000,
    pollMs: 1000,
    sleep: async (ms) => {
      sleeps.push(ms);
      advance(ms);
    },
    timer: (ms, signal) =>
      new Promise<void>((fire) => {
        const t = { at: now + ms, fire };
        timers.add(t);
        signal.addEventListener('abort', () => timers.delete(t));
      }),
    now: () => now,
  });
  return {
    lab,
    views,
    events,
    sleeps,
    /** time passes while the lifecycle waits for an answer */
    advance: async (ms: number) => {
      await new Promise(setImmediate); // the question is asked and its bound set
      advance(ms);
    },
    timersPending: () => timers.size,
    labels: () => views.map((v) => v.label),
    states: () => views.map((v) => v.state),
    release: () => (holding = false),
  };
}

const open = (web: ConnectionState | 'none', php: ConnectionState | 'none') =>
  new Map<string, ConnectionState | 'none'>([
    ['web', web],
    ['php', php],
  ]);

describe('the lab lifecycle', () => {
  test('no lab yet: « vérification… », then « non lancé »', async () => {
    const { api, calls } = fakeApi({ get: [null] });
    const h = harness(api);
    await h.lab.check();
    assert.deepEqual(h.states(), ['checking', 'idle']);
    assert.deepEqual(calls, ['get']);
    assert.deepEqual(h.events, []);
  });

  test('a lab already running (page reload): attached at once, ready when its terminals are open', async () => {
    const { api } = fakeApi({ get: [info('a')] });
    const h = harness(api);
    await h.lab.check();
    assert.deepEqual(h.states(), ['checking', 'starting']);
    assert.deepEqual(h.events, ['attach a (new)']);
    h.lab.terminals(open('connecting', 'connecting'));
    assert.equal(h.lab.state, 'starting');
    h.lab.terminals(open('open', 'connecting'));
    assert.equal(h.lab.state, 'starting', 'a terminal still connecting for the first time is not a lost connection');
    h.lab.terminals(open('open', 'open'));
    assert.equal(h.lab.state, 'ready');
    assert.equal(h.lab.view.label, STATE_LABEL.ready);
  });

  test('a lab still starting is asked again each second until it is ready', async () => {
    const { api, calls } = fakeApi({ get: [info('a', 'starting'), info('a', 'starting'), info('a', 'starting'), info('a')] });
    const h = harness(api);
    await h.lab.check();
    assert.deepEqual(calls, ['get', 'get', 'get', 'get']);
    assert.deepEqual(h.sleeps, [1000, 1000, 1000]);
    assert.deepEqual(h.events, ['attach a (new)']);
  });

  test('a lab that stays starting past the bound ends in an error, never in a wait without end', async () => {
    const { api } = fakeApi({ get: [info('a', 'starting')] });
    const h = harness(api);
    await assert.rejects(h.lab.check(), LabApiError);
    assert.equal(h.lab.state, 'error');
    assert.equal(h.lab.view.message, TEXT.startTimeout);
    assert.ok(h.sleeps.length <= 11, `${h.sleeps.length} questions`);
  });

  test('a start whose answer never comes ends in an error at the bound; « Réessayer » asks again', async () => {
    const { api, calls } = fakeApi({ get: [null], create: [never(), info('a')] });
    const h = harness(api);
    await h.lab.check();
    const started = h.lab.start();
    await h.advance(10_000);
    await assert.rejects(started, LabApiError);
    assert.equal(h.lab.state, 'error');
    assert.equal(h.lab.view.message, TEXT.startTimeout);
    await h.lab.retry();
    assert.deepEqual(calls, ['get', 'create', 'create']);
    assert.deepEqual(h.events, ['attach a (new)']);
    assert.equal(h.timersPending(), 0, 'no bound left running');
  });

  test('a question that never gets an answer while a lab starts ends in an error at the bound', async () => {
    const { api } = fakeApi({ get: [null], create: [at('a', 'services')] });
    const h = harness(api);
    await h.lab.check();
    api.getLab = never;
    const started = h.lab.start();
    await h.advance(10_000);
    await assert.rejects(started, LabApiError);
    assert.equal(h.lab.view.message, TEXT.startTimeout);
  });

  test('a start shows each step the server reports, then the terminal’s; the badge says each step once', async () => {
    const { api } = fakeApi({
      get: [
        null,
        at('a', 'queued', 2),
        at('a', 'queued', 2),
        at('a', 'queued', 1),
        at('a', 'queued', 0),
        at('a', 'network'),
        at('a', 'containers'),
        at('a', 'services'),
        info('a'),
      ],
      create: [at('a', 'queued')],
    });
    const h = harness(api);
    await h.lab.check();
    await h.lab.start();
    const steps = h.views
      .filter((v) => v.state === 'starting')
      .map((v) => (v.progress ? `${v.progress.step}${v.progress.ahead ?? ''}` : '-'));
    assert.deepEqual(steps, ['-', 'queued', 'queued2', 'queued1', 'queued0', 'network', 'containers', 'services', 'terminal']);
    h.lab.terminals(open('connecting', 'connecting'));
    h.lab.terminals(open('open', 'connecting'));
    assert.equal(h.lab.view.label, START_LABEL.terminal, 'the terminals connect: the last step');
    h.lab.terminals(open('open', 'open'));
    assert.equal(h.lab.state, 'ready');
    // The badge is a live region: it changes with each step, not with each place in the queue.
    const badge = h.labels().filter((label, i, all) => label !== all[i - 1]);
    assert.deepEqual(badge, [
      STATE_LABEL.checking,
      STATE_LABEL.idle,
      STATE_LABEL.starting,
      START_LABEL.queued,
      START_LABEL.network,
      START_LABEL.containers,
      START_LABEL.services,
      START_LABEL.terminal,
      STATE_LABEL.ready,
    ]);
  });

  test('the bound runs from the last progress: a long queue that moves is followed to the end, a step that stalls is not', async () => {
    const queue = Array.from({ length: 30 }, (_, i) => [at('a', 'queued', 29 - i), at('a', 'queued', 29 - i)]).flat();
    const { api } = fakeApi({ get: [null, ...queue, at('a', 'services'), info('a')], create: [at('a', 'queued', 30)] });
    const h = harness(api);
    await h.lab.check();
    await h.lab.start();
    assert.ok(h.sleeps.length > 60, `a start of ${h.sleeps.length} s, six times the bound`);
    assert.deepEqual(h.events, ['attach a (new)']);

    const stalled = fakeApi({
      get: [null, at('b', 'queued', 3), at('b', 'queued', 2), at('b', 'services')],
      create: [at('b', 'queued', 3)],
    });
    const s2 = harness(stalled.api);
    await s2.lab.check();
    await assert.rejects(s2.lab.start(), LabApiError);
    assert.equal(s2.lab.view.message, TEXT.startTimeout);
    // Its last step came 3 s after the start: it ends within the bound (10 s) and one question after it.
    assert.ok(s2.sleeps.length <= 3 + 10 + 1, `ended ${s2.sleeps.length} s after the start`);
  });

  test('a page opened while its lab waits its turn follows the start (no « non lancé »)', async () => {
    const { api } = fakeApi({ get: [at('a', 'queued', 1), at('a', 'network'), info('a')] });
    const h = harness(api);
    await h.lab.check();
    assert.deepEqual(
      h.views.map((v) => v.progress?.step ?? v.state),
      ['checking', 'queued', 'network', 'terminal'],
    );
    assert.deepEqual(h.events, ['attach a (new)']);
  });

  test('an expired lab: the terminals and the preview go, « expiré »; « Lancer le lab » makes a fresh one', async () => {
    const { api, calls } = fakeApi({ get: [info('a', 'expired')], reset: [info('b')] });
    const h = harness(api);
    await h.lab.check();
    assert.equal(h.lab.state, 'expired');
    assert.deepEqual(h.events, ['detach, gone']);
    await h.lab.start();
    assert.deepEqual(calls, ['get', 'reset'], 'creating would hand back the expired lab');
    assert.deepEqual(h.events, ['detach, gone', 'attach b (new)']);
  });

  test('a lab another panel of the page shows: « non lancé » with a message, and a start takes it over', async () => {
    const { api, calls } = fakeApi({ get: [info('a')] });
    const h = harness(api, { elsewhere: true });
    await h.lab.check();
    assert.equal(h.lab.state, 'idle');
    assert.equal(h.lab.view.message, TEXT.otherPanel);
    await h.lab.start();
    assert.deepEqual(calls, ['get'], 'no new lab');
    assert.deepEqual(h.events, ['attach a'], 'the lab it knew already');
  });

  test('a start pressed while the panel still checks waits for the answer, then starts', async () => {
    let answer: (i: LabInfo | null) => void = () => {};
    const pending = new Promise<LabInfo | null>((ok) => (answer = ok));
    const { api, calls } = fakeApi({ get: [pending], create: [info('a')] });
    const h = harness(api);
    const checked = h.lab.check();
    const started = h.lab.start();
    assert.equal(h.lab.busy, true);
    await new Promise(setImmediate); // every pending promise job has run
    assert.deepEqual(calls, ['get'], 'the start waits for the check');
    answer(null);
    await Promise.all([checked, started]);
    assert.deepEqual(calls, ['get', 'create']);
    assert.deepEqual(h.states(), ['checking', 'idle', 'starting', 'starting']);
    assert.deepEqual(h.events, ['attach a (new)']);
    assert.equal(h.lab.busy, false);
  });

  test('a start pressed while the check finds the lab running attaches once, creates nothing', async () => {
    const { api, calls } = fakeApi({ get: [info('a')], create: [info('x')] });
    const h = harness(api);
    await Promise.all([h.lab.check(), h.lab.start(), h.lab.start()]);
    h.lab.terminals(open('open', 'open'));
    assert.deepEqual(calls, ['get']);
    assert.deepEqual(h.events, ['attach a (new)']);
    assert.equal(h.lab.state, 'ready');
  });

  test('a failed start: « erreur » with the server’s French message; « Réessayer » starts again', async () => {
    const { api, calls } = fakeApi({
      get: [null],
      create: [new LabApiError(503, 'no-room', 'Plus de place pour un lab. Réessayez dans un instant.'), info('a')],
    });
    const h = harness(api);
    await h.lab.check();
    await assert.rejects(h.lab.start());
    assert.equal(h.lab.state, 'error');
    assert.equal(h.lab.view.message, 'Plus de place pour un lab. Réessayez dans un instant.');
    await h.lab.retry();
    assert.deepEqual(calls, ['get', 'create', 'create']);
    assert.deepEqual(h.events, ['attach a (new)']);
    assert.equal(h.lab.view.message, undefined);
  });

  test('a failed check: « Réessayer » asks again', async () => {
    const { api, calls } = fakeApi({ get: [new LabApiError(0, 'network', TEXT.network), info('a')] });
    const h = harness(api);
    await assert.rejects(h.lab.check());
    assert.equal(h.lab.view.message, TEXT.network);
    await h.lab.retry();
    assert.deepEqual(calls, ['get', 'get']);
    assert.deepEqual(h.events, ['attach a (new)']);
  });

  test('an error that is not the API’s is shown with the start failure’s words', async () => {
    const { api } = fakeApi({ get: [null], create: [new TypeError('fetch exploded')] });
    const h = harness(api);
    await h.lab.check();
    await assert.rejects(h.lab.start());
    assert.equal(h.lab.view.message, `${TEXT.startFailed} fetch exploded`);
  });

  test('a reset stops the terminals, then attaches the new lab', async () => {
    const { api, calls } = fakeApi({ get: [info('a')], reset: [info('b', 'starting')] });
    const h = harness(api);
    await h.lab.check();
    h.lab.terminals(open('open', 'open'));
    api.getLab = async () => info('b');
    await h.lab.reset();
    assert.deepEqual(calls, ['get', 'reset']);
    assert.deepEqual(h.events, ['attach a (new)', 'detach', 'attach b (new)']);
    assert.equal(h.lab.info?.labId, 'b');
    h.lab.terminals(open('connecting', 'connecting'));
    assert.equal(h.lab.state, 'starting', 'the new lab’s terminals connect for the first time');
  });

  test('recheck: a lab gone leaves « non lancé », an expired one « expiré », another one (reset elsewhere) is attached', async () => {
    const { api } = fakeApi({ get: [info('a')] });
    const h = harness(api);
    await h.lab.check();
    api.getLab = async () => info('c');
    await h.lab.recheck();
    assert.deepEqual(h.events.at(-1), 'attach c (new)');
    api.getLab = async () => info('c', 'expired');
    await h.lab.recheck();
    assert.equal(h.lab.state, 'expired');
    api.getLab = async () => null;
    await h.lab.recheck();
    assert.equal(h.lab.state, 'idle');
    assert.equal(h.lab.view.message, TEXT.noLab);
    assert.equal(h.lab.info, null);
    api.getLab = async () => {
      throw new LabApiError(0, 'network', TEXT.network);
    };
    await h.lab.recheck(); // no answer: nothing changes
    assert.equal(h.lab.state, 'idle');
  });

  test('the badge follows the terminals only while this panel holds them', async () => {
    const { api } = fakeApi({ get: [info('a')] });
    const h = harness(api);
    await h.lab.check();
    h.lab.terminals(open('open', 'open'));
    h.lab.terminals(open('waiting', 'open'));
    assert.equal(h.lab.state, 'disconnected');
    h.lab.terminals(open('connecting', 'open'));
    assert.equal(h.lab.state, 'disconnected', 'connecting again after it was open');
    h.lab.terminals(open('replaced', 'replaced'));
    assert.deepEqual(h.lab.view, { state: 'disconnected', label: STATE_LABEL_ELSEWHERE });
    h.release();
    h.lab.released();
    h.lab.terminals(open('closed', 'closed'));
    assert.equal(h.lab.state, 'idle', 'another panel holds them: its terminals are not ours');
    assert.equal(h.lab.view.message, TEXT.otherPanel);
  });

  test('an invalid lab name in the page is an error from the start', () => {
    const { api } = fakeApi({});
    const h = harness(api);
    h.lab.fail('Nom de lab invalide : « Nginx ».');
    assert.deepEqual(h.views, [{ ...stateBadge('error'), message: 'Nom de lab invalide : « Nginx ».' }]);
  });
});

describe('the state badge', () => {
  const t = (state: ConnectionState | 'none', wasOpen = false) => ({ state, wasOpen });

  test('each state has its French words', () => {
    assert.deepEqual(stateBadge('checking'), { state: 'checking', label: 'vérification…' });
    assert.deepEqual(stateBadge('ready'), { state: 'ready', label: 'prêt' });
  });

  test('the worst terminal wins: failed, then lost, then starting, then opened elsewhere', () => {
    assert.equal(terminalsBadge([t('open'), t('failed'), t('waiting')]).state, 'error');
    assert.equal(terminalsBadge([t('open'), t('waiting')]).state, 'disconnected');
    assert.equal(terminalsBadge([t('open'), t('connecting', true)]).state, 'disconnected');
    assert.equal(terminalsBadge([t('open'), t('connecting')]).state, 'starting');
    assert.deepEqual(terminalsBadge([t('open'), t('replaced')]), { state: 'disconnected', label: STATE_LABEL_ELSEWHERE });
    assert.deepEqual(terminalsBadge([t('open'), t('open')]), stateBadge('ready'));
    assert.deepEqual(terminalsBadge([t('open'), t('none')]), stateBadge('ready'), 'a terminal not connected yet counts for nothing');
  });
});
