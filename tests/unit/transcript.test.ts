// The transcript of a terminal (issue 15), on xterm.js's own parser: @xterm/headless is the same core as
// the panel's terminal, so the transcript reads the same buffer here as in the browser. Colours and cursor
// codes go, wrapped rows join, clear and reset keep what was on screen, a flood stays bounded and
// contiguous, a full-screen program is left out; and the pure bound and text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import headless from '@xterm/headless';
import { TRANSCRIPT_TEXT } from '../../site/islands/lab/strings.ts';
import { BoundedLines, TerminalTranscript, transcriptText } from '../../site/islands/lab/transcript.ts';

const { Terminal } = headless;

function terminal(cols = 40, rows = 10) {
  const term = new Terminal({ cols, rows, scrollback: 5000, allowProposedApi: true });
  const transcript = new TerminalTranscript(term, 20_000);
  const write = (data: string) => new Promise<void>((resolve) => term.write(data, resolve));
  return { term, transcript, write };
}

test('colour and cursor codes are taken out; typed line and output stay', async () => {
  const { transcript, write } = terminal();
  await write(
    "$ printf '\\e[31mrouge\\e[0m\\n'\r\n\x1b[31mrouge\x1b[0m\r\n\x1b]0;title\x07$ ls\r\n\x1b[01;34mbin\x1b[0m  \x1b[01;32mrun.sh\x1b[0m\r\n$ ",
  );
  assert.equal(transcript.text(), "$ printf '\\e[31mrouge\\e[0m\\n'\nrouge\n$ ls\nbin  run.sh\n$");
});

test('a line wrapped by the terminal is one line, its spaces at the break kept', async () => {
  const { transcript, write } = terminal(10);
  await write('0123456789 abcdefgh ij\r\nfin\r\n');
  assert.equal(transcript.text(), '0123456789 abcdefgh ij\nfin');
});

test('a line edited in place (carriage return, erase) shows its last state', async () => {
  const { transcript, write } = terminal();
  await write('progress 10%\rprogress 100%\r\n$ ecx\x08\x1b[Kho ok\r\n');
  assert.equal(transcript.text(), 'progress 100%\n$ echo ok');
});

test('clear (home, erase screen and scrollback) keeps what was on screen and before', async () => {
  const { transcript, write } = terminal(40, 5);
  for (let i = 1; i <= 12; i++) await write(`ligne ${i}\r\n`);
  await write('$ clear\r\n\x1b[H\x1b[2J\x1b[3J$ echo après\r\naprès\r\n$ ');
  const lines = transcript.text().split('\n');
  assert.deepEqual(
    lines.slice(0, 12),
    Array.from({ length: 12 }, (_, i) => `ligne ${i + 1}`),
  );
  assert.deepEqual(lines.slice(12), ['$ clear', '$ echo après', 'après', '$']);
  assert.equal(transcript.text(), lines.join('\n'), 'the same text when read again');
});

test('a reset by the program (RIS) and one by the panel keep the text; a resumed replay is not kept twice', async () => {
  const { term, transcript, write } = terminal();
  await write('avant\r\n\x1bcaprès\r\n');
  assert.equal(transcript.text(), 'avant\naprès');
  transcript.commitAll();
  term.reset();
  await write('encore\r\n');
  assert.equal(transcript.text(), 'avant\naprès\nencore');
  // The server replays the recent screen after the panel's reset: the screen's lines come once.
  transcript.replayFollows();
  await write('\x1bc');
  await write('encore\r\n$ ');
  assert.equal(transcript.text(), 'avant\naprès\nencore\n$');
});

test('a resize (fewer columns, then more) neither loses nor repeats a line', async () => {
  const { term, transcript, write } = terminal(20, 5);
  for (let i = 1; i <= 150; i++) await write(`ligne ${i} ${'x'.repeat(i % 30)}\r\n`);
  term.resize(12, 4);
  for (let i = 151; i <= 300; i++) await write(`ligne ${i} ${'x'.repeat(i % 30)}\r\n`);
  term.resize(50, 8);
  for (let i = 301; i <= 400; i++) await write(`ligne ${i} ${'x'.repeat(i % 30)}\r\n`);
  const want = Array.from({ length: 400 }, (_, i) => `ligne ${i + 1} ${'x'.repeat((i + 1) % 30)}`.trimEnd());
  assert.deepEqual(transcript.text().split('\n'), want);
});

test('a full-screen program (alternate screen) is left out', async () => {
  const { transcript, write } = terminal();
  await write('$ less f\r\n\x1b[?1049h\x1b[Hcontenu de f\r\n\x1b[2J~\r\n~\r\n\x1b[?1049l$ ');
  assert.equal(transcript.text(), '$ less f\n$');
});

test('a flood stays under the bound, its last lines whole and in order', async () => {
  const { transcript, write } = terminal(40, 24);
  let out = '';
  for (let i = 1; i <= 20_000; i++) out += `${i}\r\n`;
  await write(out);
  const text = transcript.text();
  assert.ok(text.length <= 20_000 + TRANSCRIPT_TEXT.trimmed.length + 1, `${text.length} characters`);
  const [note, ...lines] = text.split('\n');
  assert.equal(note, TRANSCRIPT_TEXT.trimmed);
  const numbers = lines.map(Number);
  assert.equal(numbers.at(-1), 20_000);
  assert.ok(numbers.length > 2000, `${numbers.length} lines kept`);
  for (let i = 1; i < numbers.length; i++) assert.equal(numbers[i], numbers[i - 1]! + 1, `line ${i} follows`);
});

test('BoundedLines drops the oldest lines past its bound, and cuts one line longer than it', () => {
  const log = new BoundedLines(100);
  for (let i = 0; i < 50; i++) log.push(`ligne ${i}`);
  assert.ok(log.lines.join('\n').length <= 100);
  assert.equal(log.lines.at(-1), 'ligne 49');
  assert.equal(log.trimmed, true);
  const one = new BoundedLines(100);
  one.push('x'.repeat(500));
  assert.ok(one.lines[0]!.length < 100);
  assert.equal(one.trimmed, true);
  assert.equal(new BoundedLines(100).trimmed, false);
});

test('transcriptText: the note when trimmed, trailing blank lines gone, the bound kept at a line break', () => {
  assert.equal(transcriptText(false, ['a', 'b', '', '']), 'a\nb');
  assert.equal(transcriptText(true, ['a']), `${TRANSCRIPT_TEXT.trimmed}\na`);
  assert.equal(transcriptText(false, ['123', '456', '789'], 8), `${TRANSCRIPT_TEXT.trimmed}\n456\n789`);
});
