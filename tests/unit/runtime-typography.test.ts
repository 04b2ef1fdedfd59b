// French typography of what the server sends and the « Vérifier » island shows at run time, read where
// each text is written: every message the terminal gateway and the preview proxy can send, every
// diagnosis's explanation and hint (sandbox/labs/diagnoses.ts) and the answer when none applies, and the
// strings of the check, solution and progress islands, the lab API's errors (rate limits, no room…) and the
// FastCGI view's. The built page's own text is page-typography's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as diagnoses from '../../sandbox/labs/diagnoses.ts';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { UNAVAILABLE } from '../../server/fastcgi/endpoint.ts';
import { API_MESSAGES } from '../../server/http/messages.ts';
import { NO_SUCH_CHECK, NOT_YET } from '../../server/labs/checks.ts';
import { PREVIEW_ERRORS, PREVIEW_RESULTS } from '../../server/preview/messages.ts';
import { GATEWAY_MESSAGES } from '../../server/terminal/messages.ts';
import { CHECK_STRINGS, SOLUTION_STRINGS } from '../../site/islands/check-strings.ts';
import { PROGRESS_STRINGS } from '../../site/islands/progress-strings.ts';
import { typographyError } from '../helpers/french-typography.ts';

/** Every string of a table of messages; a message made by a function is made with a plain word per argument. */
function texts(table: object, where: string): Array<{ where: string; text: string }> {
  return Object.entries(table).flatMap(([key, value]: [string, unknown]) => {
    if (typeof value === 'string') return [{ where: `${where}.${key}`, text: value }];
    if (typeof value === 'function') {
      const made: unknown = value(...Array.from({ length: value.length }, () => 'mot'));
      return typeof made === 'string' ? [{ where: `${where}.${key}()`, text: made }] : [];
    }
    if (value && typeof value === 'object') return texts(value, `${where}.${key}`);
    return [];
  });
}

function assertFrench(found: Array<{ where: string; text: string }>): void {
  assert.ok(found.length > 0);
  const wrong = found.flatMap(({ where, text }) => {
    const error = typographyError(text);
    return error ? [`${where}: ${error} in ${JSON.stringify(text)}`] : [];
  });
  assert.deepEqual(wrong, []);
}

test('every message of the terminal gateway', () => {
  assertFrench(texts(GATEWAY_MESSAGES, 'gateway'));
});

test('every message of the preview proxy: its error pages and the status chip’s words', () => {
  const found = [...texts(PREVIEW_ERRORS, 'proxy'), ...texts(PREVIEW_RESULTS, 'chip')];
  assert.ok(found.every((f) => !f.where.startsWith('proxy') || f.text.startsWith('Aperçu\u202F: ')));
  assertFrench(found);
});

test('every diagnosis’s explanation and hint, and the answer when none applies', () => {
  const found: Array<{ where: string; text: string }> = [];
  for (const [group, factories] of Object.entries(diagnoses)) {
    for (const [name, make] of Object.entries(
      factories as unknown as Record<string, (...args: string[]) => { explain: string; hint: string }>,
    )) {
      const d = make(...Array.from({ length: make.length }, () => '/x'));
      found.push({ where: `${group}.${name}.explain`, text: d.explain }, { where: `${group}.${name}.hint`, text: d.hint });
    }
  }
  assert.ok(found.length >= 30, `${found.length} texts`);
  assertFrench([...found, ...texts(NOT_YET, 'not-yet')]);
});

test('every diagnosis of every lab, those written in a lab file too', () => {
  const found = loadLabs().flatMap((lab) =>
    lab.checks.flatMap((c) =>
      c.diagnoses.flatMap((d) => [
        { where: `${lab.id}.${c.id}.${d.id}.explain`, text: d.explain },
        { where: `${lab.id}.${c.id}.${d.id}.hint`, text: d.hint },
      ]),
    ),
  );
  assertFrench(found);
});

test('the check, solution and progress islands’ strings («\u00A0Piste\u202F:\u00A0» and the rest)', () => {
  assert.equal(CHECK_STRINGS.hint('h'), 'Piste\u202F: h');
  assertFrench([...texts(CHECK_STRINGS, 'check'), ...texts(SOLUTION_STRINGS, 'solution'), ...texts(PROGRESS_STRINGS, 'progress')]);
});

test('every error message of the lab API (rate limits, no room, unknown lab or check) and of the FastCGI view', () => {
  const found = [
    ...texts(API_MESSAGES, 'api'),
    { where: 'checks.NO_SUCH_CHECK()', text: NO_SUCH_CHECK('nginx-remote', 'page') },
    ...texts(UNAVAILABLE, 'fastcgi'),
  ];
  assert.ok(found.length >= 14, `${found.length} texts`);
  assertFrench(found);
  // Inside « », no-break spaces (the shared rule does not look at quotes).
  assert.deepEqual(
    found.filter((f) => /« | »/.test(f.text)).map((f) => f.where),
    [],
  );
});
