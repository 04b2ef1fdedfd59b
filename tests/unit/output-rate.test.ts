// The terminal output rate (ShellSession) and who counts as typing (InputActivity): a flood goes at full
// speed while nobody else types, and at the rate as soon as another terminal is typed in. The shell here
// is a stream this test writes into: the rate logic is what is under test, not the engine (the security
// test bombs.test.ts measures the same with real labs and a real neighbour).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ACTIVE_MS, InputActivity } from '../../server/terminal/input-activity.ts';
import type { Shell } from '../../server/terminal/ports.ts';
import { ShellSession } from '../../server/terminal/shell-session.ts';

test('InputActivity: others count as active for ACTIVE_MS after their last keystroke, oneself never', () => {
  let now = 1_000_000;
  const a = {};
  const b = {};
  const c = {};
  const activity = new InputActivity(() => now);
  assert.equal(activity.othersActive(a), false, 'nobody typed yet');
  activity.noteInput(a);
  assert.equal(activity.othersActive(a), false, 'only a typed');
  assert.equal(activity.othersActive(b), true);
  activity.noteInput(b);
  activity.noteInput(b);
  assert.equal(activity.othersActive(b), true, 'a typed before b, within the window');
  now += ACTIVE_MS + 1;
  assert.equal(activity.othersActive(c), false, 'everyone quiet again');
  activity.noteInput(c);
  assert.equal(activity.othersActive(c), false, 'a and b are past the window');
  assert.equal(activity.othersActive(a), true);
});

/** A shell whose output this test writes, counting how much the session let through to its client. */
function floodingShell() {
  const output = new PassThrough({ highWaterMark: 16 * 1024 });
  const shell: Shell = {
    output,
    write: () => true,
    drained: async () => {},
    resize: async () => {},
    close: async () => {},
    exited: new Promise(() => {}),
  };
  return { shell, output };
}

/** Writes 64 KiB chunks for `ms` while the stream takes them; returns bytes the client received. */
async function floodFor(ms: number, output: PassThrough, received: () => number): Promise<number> {
  const start = received();
  const chunk = Buffer.alloc(64 * 1024, 0x79);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // A full stream: wait for the session to read on (or for the end of the measure).
    if (!output.write(chunk))
      await Promise.race([once(output, 'drain'), new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())).unref())]);
    else await new Promise((r) => setImmediate(r));
  }
  return received() - start;
}

test('ShellSession: a flood is not held back while nobody else types, and is at the rate while someone does', async () => {
  const activity = new InputActivity();
  const rate = 256 * 1024;
  const { shell, output } = floodingShell();
  const session = new ShellSession(shell, { graceMs: 1000, onClose: () => {}, outputBytesPerSecond: rate, activity });
  let received = 0;
  // A client that acknowledges everything at once (a fast browser).
  session.attach({ send: (d) => ((received += d.length), session.ack(d.length), 0), end: () => {} });

  const alone = await floodFor(600, output, () => received);
  assert.ok(alone > 4 * rate, `alone: ${alone} bytes in 0.6 s, more than the burst and 0.6 s of rate`);

  const neighbour = {};
  activity.noteInput(neighbour);
  await floodFor(300, output, () => received); // the burst left, if any, is spent
  const contended = await floodFor(1000, output, () => received);
  assert.ok(contended <= 1.5 * rate, `with a neighbour typing: ${contended} bytes in 1 s at a rate of ${rate}`);
  assert.ok(contended > 0, 'still flowing, at the rate');
  session.close();
  output.destroy();
});

test('ShellSession: a shell no client ever attached to is read no further and ends after its grace period', async () => {
  const output = new PassThrough();
  let closed = false;
  const shell: Shell = {
    output,
    write: () => true,
    drained: async () => {},
    resize: async () => {},
    close: async () => void (closed = true),
    exited: new Promise(() => {}),
  };
  const ended = new Promise<void>((ok) => new ShellSession(shell, { graceMs: 50, onClose: ok }));
  assert.equal(output.isPaused(), true, 'born paused: nobody reads it');
  await ended;
  assert.equal(closed, true, 'hung up once the grace period is over');
});
