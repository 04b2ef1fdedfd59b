// One source for the chapter's commands: every <Run step="…"> block of the built chapter shows, and its
// copy and run buttons carry, exactly the command of that solution step, the one CI runs
// (tests/integration/labs.test.ts); every named step of the chapter's labs is shown; a block naming a step
// the lab does not have stops the build with a message naming the file, the lab and its steps.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Element, Root, RootContent } from 'hast';
import { fromHtml } from 'hast-util-from-html';
import { labCatalog } from '../../sandbox/labs/catalog.ts';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { runStep } from '../../site/lib/run-step.ts';
import { chapter, dist, ensureSiteBuilt } from '../helpers/site-build.ts';

function elements(node: Root | RootContent, match: (e: Element) => boolean, found: Element[] = []): Element[] {
  if (node.type === 'element' && match(node)) found.push(node);
  if ('children' in node) for (const child of node.children) elements(child, match, found);
  return found;
}

const classes = (e: Element) => (Array.isArray(e.properties.className) ? e.properties.className.map(String) : []);
const text = (node: Root | RootContent): string =>
  node.type === 'text' ? node.value : 'children' in node ? node.children.map(text).join('') : '';

interface Shown {
  lab: string;
  step: string;
  host: string;
  /** the lines of the code block as drawn */
  visible: string;
  /** what the copy button copies, and the run button types (site/islands/lab/run-text.ts) */
  copied: string;
}

let blocks: Shown[] = [];
let html = '';

before(async () => {
  await ensureSiteBuilt();
  html = readFileSync(join(dist, '05-fastcgi', 'index.html'), 'utf8');
  const page = fromHtml(html);
  blocks = elements(page, (e) => classes(e).includes('run-block') && e.properties.dataStep !== undefined).map((block) => {
    const copy = elements(block, (e) => e.tagName === 'button' && e.properties.dataCode !== undefined)[0];
    return {
      lab: String(block.properties.dataLab),
      step: String(block.properties.dataStep),
      host: String(block.properties.dataHost),
      visible: elements(block, (e) => classes(e).includes('ec-line'))
        .map(text)
        .join('\n'),
      copied: String(copy?.properties.dataCode ?? '').replace(/\u007f/g, '\n'),
    };
  });
});

describe('the chapter shows its labs’ solution steps as they are', () => {
  test('every run block bound to a step shows exactly that step’s command, on that step’s host', () => {
    assert.ok(blocks.length > 0, 'the chapter has run blocks bound to steps');
    const labs = loadLabs();
    for (const b of blocks) {
      const step = labs.find((l) => l.id === b.lab)?.solution.find((s) => s.id === b.step);
      assert.ok(step, `${b.lab} has a step ${b.step}`);
      assert.equal(b.host, step.host, `${b.lab}/${b.step}: host`);
      assert.equal(b.visible, step.run, `${b.lab}/${b.step}: the command as drawn`);
      assert.equal(b.copied, step.run, `${b.lab}/${b.step}: the command as copied and typed`);
    }
  });

  test('the step blocks add no second copy of the code blocks’ styles and script (ec.config.mjs)', () => {
    assert.equal(html.match(/<style>\.expressive-code\{/g)?.length, 1, 'Expressive Code’s styles, once');
    assert.equal(html.match(/<script type="module" src="\/_astro\/ec\.[^"]+\.js"/g)?.length, 1, 'its copy-button script, once');
  });

  test('every named step of the chapter’s labs is shown in the chapter', () => {
    for (const lab of loadLabs().filter((l) => chapter('05-fastcgi').entry.data.labs.includes(l.id))) {
      const shown = blocks.filter((b) => b.lab === lab.id).map((b) => b.step);
      for (const s of lab.solution) if (s.id !== undefined) assert.ok(shown.includes(s.id), `${lab.id}: step ${s.id} is not shown`);
    }
  });
});

describe('a run block naming a step that does not exist', () => {
  const catalog = labCatalog();
  const file = 'content/05-fastcgi.mdx';

  test('stops the build with the file, the lab and the steps it has', () => {
    assert.throws(
      () => runStep(catalog, { file, lab: 'nginx-remote', step: 'point-at-phpp' }),
      (err: Error) =>
        err.message ===
        'content/05-fastcgi.mdx: <Run lab="nginx-remote" step="point-at-phpp">: lab nginx-remote has no step "point-at-phpp" (its steps: point-at-php, reload, start-php)',
    );
    assert.throws(
      () => runStep(catalog, { file, lab: 'nginx-remot', step: 'reload' }),
      /no lab "nginx-remot" \(labs: apache-local, apache-remote, /,
    );
  });

  test('or a host that is not the step’s', () => {
    assert.throws(
      () => runStep(catalog, { file, lab: 'nginx-remote', step: 'start-php', host: 'web' }),
      /host="web", but the step runs on php/,
    );
    assert.deepEqual(runStep(catalog, { file, lab: 'nginx-remote', step: 'start-php' }), { host: 'php', run: 'service php8.2-fpm start' });
  });
});
