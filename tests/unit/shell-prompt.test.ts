// promptDrawn: a shell opened ahead is resized only once readline has drawn its prompt, and whoever reads
// the shell's output next still gets every byte, in order. The output is a real TCP socket, as the
// engine's hijacked exec connection is.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { promptDrawn } from '../../server/labs/shell-prompt.ts';
import { outputMatching, within } from '../helpers/wait.ts';

/** A connected pair: `shell` writes what the program prints, `output` is what the server reads. */
async function pair(): Promise<{ shell: Socket; output: Socket; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const output = connect(port, '127.0.0.1');
  const [shell] = await accepted;
  return {
    shell,
    output,
    close: () => {
      shell.destroy();
      output.destroy();
      server.close();
    },
  };
}

const PASTE_ON = '\x1b[?2004h';
const PROMPT = '\x1b[1;32mroot@web\x1b[0m:/# ';

test('waits past the bracketed-paste switch for the prompt, and loses no byte', async () => {
  const { shell, output, close } = await pair();
  let drawn = false;
  const waiting = promptDrawn(output, 10_000).then(() => (drawn = true));
  shell.write('motd line\r\n');
  shell.write(PASTE_ON);
  // The switch alone is not the prompt: readline installs its SIGWINCH handler after it.
  while (output.bytesRead < 11 + PASTE_ON.length) await within(once(output, 'readable'), 5_000, 'the switch');
  assert.equal(drawn, false);
  shell.write(PROMPT);
  await within(waiting, 5_000, 'the hand-over');
  const got = outputMatching(output, /after$/, 5_000);
  shell.write('after');
  assert.equal(await got, `motd line\r\n${PASTE_ON}${PROMPT}after`);
  close();
});

test('a shell that draws no such prompt is handed over after the bound, its output intact', async () => {
  const { shell, output, close } = await pair();
  shell.write('$ ');
  const t0 = Date.now();
  await promptDrawn(output, 300);
  assert.ok(Date.now() - t0 >= 250, 'waited for the bound');
  const got = outputMatching(output, /x$/, 5_000);
  shell.write('x');
  assert.equal(await got, '$ x');
  close();
});

test('a shell that ends while starting does not hold its hand-over', async () => {
  const { shell, output, close } = await pair();
  const waiting = promptDrawn(output, 10_000);
  shell.end('bye');
  await within(waiting, 5_000, 'the hand-over of an ended shell');
  close();
});
