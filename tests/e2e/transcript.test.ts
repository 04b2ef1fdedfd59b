// The transcript of a host (issue 15), in Chromium against the real server and a real lab: a typed command
// and its coloured output appear in the open transcript without escape codes, the download gives the
// same text, and a flood keeps it under its bound with its last lines whole and in order.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { TRANSCRIPT_TEXT } from '../../site/islands/lab/strings.ts';
import { TRANSCRIPT_MAX_CHARS } from '../../site/islands/lab/transcript.ts';
import { type ChapterPage, labSelector, openChapterPage, runAndWait, startLab } from '../helpers/lab-page.ts';
import { newScope } from '../helpers/scope.ts';

const LAB = 'apache-remote';
const HOST = 'web';
let chapter: ChapterPage;
let page: Page;

before(async () => {
  chapter = await openChapterPage(newScope('e2e-transcript'));
  page = chapter.page;
});
after(async () => {
  await chapter?.close();
});

const transcript = () => page.locator(`${labSelector(LAB)} .lab__panel--term[data-host="${HOST}"] .lab__transcript`);

/** The transcript's text once it shows `re` (it is redrawn at most four times a second). */
async function transcriptShows(re: RegExp, timeout = 30_000): Promise<string> {
  const text = transcript().locator('.lab__transcript-text');
  await page.waitForFunction(
    ([el, source]) => new RegExp(source as string, 'm').test((el as HTMLElement).textContent ?? ''),
    [await text.elementHandle(), re.source] as const,
    {
      timeout,
    },
  );
  return (await text.textContent()) ?? '';
}

test('a command and its coloured output, in the transcript without escape codes', async () => {
  await startLab(page, LAB, HOST);
  await transcript().locator('summary').click();
  assert.equal(await transcript().getAttribute('open'), '');
  assert.equal(await transcript().locator('.lab__transcript-text').getAttribute('aria-label'), TRANSCRIPT_TEXT.summary(HOST));
  // The escape codes are in printf's arguments, not in the command line: none can appear but as output.
  const end = await runAndWait(
    page,
    LAB,
    HOST,
    "printf '\\033[%sm%s\\033[%sm\\n' 31 rouge 0; ls --color=always /; echo couleurs=$(ls --color=always / | grep -c $'\\e')",
  );
  const fin = end.match(/^fin-\d+$/m)?.[0];
  const text = await transcriptShows(new RegExp(`^${fin}$`));
  assert.match(
    text,
    /^root@web:.*printf '\\033\[%sm%s\\033\[%sm\\n' 31 rouge 0; ls --color=always \//m,
    'the typed command, after its prompt',
  );
  assert.match(text, /^rouge$/m, 'printf’s coloured word, alone on its line');
  assert.match(text, /^couleurs=([1-9]\d*)$/m, 'ls did colour its output');
  assert.match(text, /\bbin\b.*\betc\b/s, 'ls’s names');
  assert.ok(!text.includes('\x1b'), 'no escape character');
  assert.doesNotMatch(text, /\[(?:0|31|01;3\d)m/, 'no leftover of a colour code');
});

test('the download gives the same text', async () => {
  const shown = (await transcript().locator('.lab__transcript-text').textContent()) ?? '';
  const [download] = await Promise.all([page.waitForEvent('download'), transcript().locator('.lab__transcript-download').click()]);
  assert.equal(download.suggestedFilename(), `transcription-${LAB}-${HOST}.txt`);
  const file = await readFile((await download.path())!, 'utf8');
  assert.equal(file, `${shown}\n`);
});

test('a flood stays under the bound, its last lines whole and in order', async () => {
  const end = await runAndWait(page, LAB, HOST, 'seq 1 60000', 120_000);
  const fin = end.match(/^fin-\d+$/m)?.[0];
  const text = await transcriptShows(new RegExp(`^${fin}$`));
  assert.ok(text.length <= TRANSCRIPT_MAX_CHARS + TRANSCRIPT_TEXT.trimmed.length + 1, `${text.length} characters`);
  const lines = text.split('\n');
  assert.equal(lines[0], TRANSCRIPT_TEXT.trimmed, 'the start was trimmed, and says so');
  const numbers = lines.filter((l) => /^\d+$/.test(l)).map(Number);
  assert.equal(numbers.at(-1), 60000);
  assert.ok(numbers.length > 20_000, `${numbers.length} of seq's lines kept`);
  for (let i = 1; i < numbers.length; i++) assert.equal(numbers[i], numbers[i - 1]! + 1, `line after ${numbers[i - 1]}`);
  assert.deepEqual(chapter.problems, []);
});
