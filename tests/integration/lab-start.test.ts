// A start answered early (POST with Prefer: respond-async, as the panel asks) against the real server
// and engine: a start waiting its turn is answered 202 at once, and GET follows it through its place in
// the queue and its steps to the lab, ready, under the id it was given in that first answer. Creations here go
// one at a time, so in a burst of six the last ones wait their turn.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const LAB = 'nginx-remote';
const scope = newScope('lab-start');
let server: RunningServer;

before(async () => {
  server = await startServer({
    ATELIER_TEST: '1',
    ATELIER_LAB_SCOPE: scope,
    ATELIER_LAB_CREATE_CONCURRENCY: '1',
  });
});

after(async () => {
  await server?.stop();
  await destroyScope(scope);
});

/** A new learner's async start: the answer, and the learner's cookie. */
async function start(): Promise<{ status: number; body: Record<string, unknown>; cookie: string }> {
  const r = await fetch(`${server.url}/api/labs/${LAB}`, {
    method: 'POST',
    headers: { Origin: server.url, 'Content-Type': 'application/json', Prefer: 'respond-async' },
    body: '{}',
  });
  return {
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
    cookie: (r.headers.get('set-cookie') ?? '').split(';')[0]!,
  };
}

async function get(cookie: string): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const r = await fetch(`${server.url}/api/labs/${LAB}`, { headers: { Cookie: cookie } });
  return { status: r.status, body: r.status === 204 ? null : ((await r.json()) as Record<string, unknown>) };
}

test('a start waiting its turn is answered at once, and GET follows it through its place and steps to the lab', async () => {
  const starts = await Promise.all(Array.from({ length: 6 }, start));
  const waiting = starts.filter((s) => s.status === 202);
  assert.ok(waiting.length >= 2, `starts answered early: ${starts.map((s) => s.status).join(', ')}`);
  for (const s of waiting) assert.equal(s.body.state, 'starting');

  // Each early answer followed with GET as the panel does. A start learns its place once it reaches the
  // queue (a busy engine may take longer than the early answer to list and count), then its steps.
  const follow = async (s: (typeof waiting)[number]) => {
    const seen: string[] = [];
    let answer = await get(s.cookie);
    for (const deadline = Date.now() + 180_000; answer.body?.state === 'starting'; answer = await get(s.cookie)) {
      assert.ok(Date.now() < deadline, `the start never ended: ${seen.join(' → ')}`);
      const p = answer.body.progress as { phase: string; ahead?: number } | undefined;
      const step = p ? `${p.phase}${p.ahead ?? ''}` : '-';
      if (seen.at(-1) !== step) seen.push(step);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(answer.status, 200);
    assert.equal(answer.body?.state, 'ready', seen.join(' → '));
    assert.equal(answer.body?.labId, s.body.labId, 'the lab is the one the first answer named');
    assert.equal(answer.body?.progress, undefined, 'no progress once ready');
    const places = seen.filter((x) => /^queued\d+$/.test(x)).map((x) => Number(x.slice(6)));
    assert.deepEqual(
      places,
      [...places].sort((a, b) => b - a),
      `places only go down: ${seen.join(' → ')}`,
    );
    return { seen, places };
  };
  const followed = await Promise.all(waiting.map(follow));
  const journeys = followed.map((f) => f.seen.join(' → ')).join('\n');
  // One at a time: the later ones waited behind others, and were told so.
  assert.ok(
    followed.some((f) => f.places.some((n) => n >= 1)),
    `a place in the queue behind another start:\n${journeys}`,
  );
  assert.ok(
    followed.some((f) => f.seen.some((x) => ['network', 'containers', 'services'].includes(x))),
    `a step of the creation:\n${journeys}`,
  );
});
