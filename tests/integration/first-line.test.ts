// The learner's first command in a shell the server opened ahead of the click (a lab just created or
// reset, or a pool lab), typed at once: readline must know the real width, or a long line is drawn
// shifted (issue 11: `…/confcurl -si … error.log.log` in an 84-column terminal, 3 runs in 10). The
// bytes the server sends are drawn by xterm's own emulator (@xterm/headless) and compared with the
// prompt and the command.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import headless from '@xterm/headless';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { removeScope } from '../helpers/engine.ts';
import { Learner, Terminal } from '../helpers/learner.ts';

const LAB = 'nginx-remote';
const RUNS = 20;
const WIDTHS = [84, 61, 100, 132, 97];
const ROWS = 30;
// A CommonJS module: its classes come from the default export.
const { Terminal: Screen } = headless;

let server: Backend;
before(async () => {
  // Each run resets the lab: more than the 10 creations a minute a learner may make by default.
  server = await startBackend(securityEnv('first-line', { ATELIER_LAB_CREATES_PER_MINUTE: '100' }));
});
after(async () => {
  await server?.stop();
  await removeScope(server.env.ATELIER_LAB_SCOPE!);
});

/** Key by key, each after the echo of the last, as a learner types: readline draws each one, so a wrong width shows at the wrap. */
async function typeKeys(terminal: Terminal, text: string): Promise<void> {
  for (const key of text) {
    const before = terminal.received;
    terminal.write(key);
    await terminal.until(() => terminal.received > before, 5_000, 'the echo of a key');
  }
}

/** The screen's logical lines (wrapped rows joined), as xterm draws the bytes. */
async function draw(bytes: string, cols: number): Promise<string[]> {
  const screen = new Screen({ cols, rows: ROWS, allowProposedApi: true });
  await new Promise<void>((done) => screen.write(bytes, done));
  const buffer = screen.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < buffer.length; y++) {
    const line = buffer.getLine(y)!;
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  screen.dispose();
  return lines;
}

// The terminal attaches right after the reset, while bash starts: a resize between readline reading the
// size and installing its SIGWINCH handler was lost (the line wrapped at 80 columns, about 1 run in 150);
// a shell opened ahead is now handed over once its prompt is drawn (server/labs/shell-prompt.ts).
test(`${RUNS} first commands of 120 characters, typed as the prompt shows in a shell opened ahead, are drawn as typed`, {
  timeout: 600_000,
}, async () => {
  const learner = new Learner(server.url);
  await learner.startLab(LAB);
  const garbled: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const cols = WIDTHS[run % WIDTHS.length]!;
    if (run > 0) await learner.resetLab(LAB); // new shells, opened ahead again
    const terminal = await learner.terminal(LAB, 'web', { cols, rows: ROWS });
    const marker = `first-line-${run}-`;
    const command = `echo ${marker}${'x'.repeat(120 - 5 - marker.length)}`;
    // Typed as soon as the prompt shows.
    await typeKeys(terminal, command);
    await terminal.until(() => terminal.screen.includes('x'.repeat(20)) && terminal.screen.trimEnd().endsWith('x'), 20_000, 'the echo');
    await terminal.quiet(300, 10_000);
    const lines = await draw(terminal.raw, cols);
    const typed = lines.find((l) => l.includes(marker)) ?? '';
    if (!/^root@web:\/\S*# $/.test(typed.slice(0, typed.length - command.length)) || !typed.endsWith(command)) {
      garbled.push(`${cols} columns: ${JSON.stringify(typed)}, from ${JSON.stringify(terminal.raw)}`);
    }
    terminal.close();
    await terminal.closed;
  }
  assert.deepEqual(garbled, [], `garbled in ${garbled.length} of ${RUNS} runs`);
});

test('a resize sent while the shell is being attached reaches readline: the first long command is drawn as typed', {
  timeout: 300_000,
}, async () => {
  const learner = new Learner(server.url);
  await learner.startLab(LAB);
  const garbled: string[] = [];
  for (let run = 0; run < 5; run++) {
    if (run > 0) await learner.resetLab(LAB);
    const cols = 84;
    // The panel says hello with its first guess, then fits the terminal 4 columns wider at once.
    const terminal = new Terminal(server.url, learner.cookieHeader);
    await terminal.opened;
    terminal.hello(LAB, 'web', cols - 4, ROWS);
    terminal.send({ t: 'resize', cols, rows: ROWS });
    await terminal.attached();
    const marker = `resized-${run}-`;
    const command = `echo ${marker}${'x'.repeat(120 - 5 - marker.length)}`;
    await typeKeys(terminal, command);
    await terminal.until(() => terminal.screen.trimEnd().endsWith('x'.repeat(20)), 20_000, 'the echo');
    await terminal.quiet(300, 10_000);
    const typed = (await draw(terminal.raw, cols)).find((l) => l.includes(marker)) ?? '';
    if (!/^root@web:\/\S*# $/.test(typed.slice(0, typed.length - command.length)) || !typed.endsWith(command))
      garbled.push(JSON.stringify(typed));
    terminal.close();
    await terminal.closed;
  }
  assert.deepEqual(garbled, []);
});
