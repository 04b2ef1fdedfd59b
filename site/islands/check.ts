// The « Vérifier » buttons of a page (site/components/Check.astro): each asks the server to run its
// check in the learner's lab and shows the answer; on load, the checks the learner passed before are
// ticked. Announces progress with an `atelier:progress` event (lab → passed check ids) for the page.
// Each also offers the solution of its step (./solution.ts).
import { CHECK_STRINGS as S } from './check-strings.ts';
import { wireSolution } from './solution.ts';

interface CheckAnswer {
  ok: boolean;
  title: string;
  diagnosis?: { explain: string; hint: string };
}

function show(box: HTMLElement, state: 'passed' | 'failed' | 'error', text: string, hint?: string): void {
  box.dataset.state = state;
  const detail = { lab: box.dataset.lab, check: box.dataset.check, state };
  box.ownerDocument.dispatchEvent(new CustomEvent('atelier:check', { detail }));
  const result = box.querySelector<HTMLElement>('.check__result')!;
  result.replaceChildren();
  const line = document.createElement('p');
  line.textContent = text;
  result.append(line);
  if (hint) {
    const help = document.createElement('p');
    help.className = 'check__hint';
    help.textContent = S.hint(hint);
    result.append(help);
  }
}

const passed = new Map<string, Set<string>>();

function announce(doc: Document): void {
  const detail = Object.fromEntries([...passed].map(([lab, ids]) => [lab, [...ids]]));
  doc.dispatchEvent(new CustomEvent('atelier:progress', { detail }));
}

function record(doc: Document, lab: string, id: string): void {
  if (!passed.has(lab)) passed.set(lab, new Set());
  passed.get(lab)!.add(id);
  announce(doc);
}

async function run(doc: Document, box: HTMLElement, button: HTMLButtonElement): Promise<void> {
  if (button.getAttribute('aria-disabled') === 'true') return;
  const { lab, check } = box.dataset as { lab: string; check: string };
  button.setAttribute('aria-disabled', 'true');
  const result = box.querySelector<HTMLElement>('.check__result')!;
  result.textContent = S.checking;
  try {
    const res = await fetch(`/api/labs/${lab}/checks/${check}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
    });
    const body = (await res.json()) as CheckAnswer & { message?: string };
    if (!res.ok) show(box, 'error', body.message ?? S.noAnswer);
    else if (body.ok) {
      show(box, 'passed', `${S.passed}\u202F: ${body.title}`);
      record(doc, lab, check);
    } else show(box, 'failed', `✗ ${body.diagnosis?.explain ?? S.failedUnknown}`, body.diagnosis?.hint);
  } catch {
    show(box, 'error', S.offline);
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

/** Wires every « Vérifier » of the document once, then ticks the checks already passed. */
export function initChecks(doc: Document): void {
  const boxes = [...doc.querySelectorAll<HTMLElement>('.check[data-lab][data-check]')].filter((b) => !b.dataset.wired);
  for (const box of boxes) {
    box.dataset.wired = '';
    const button = box.querySelector<HTMLButtonElement>('.check__button')!;
    button.addEventListener('click', () => void run(doc, box, button));
    wireSolution(box, () => run(doc, box, button));
    // The loader's stand-in for an early press goes away (it would press a second time).
    box.dispatchEvent(new Event('atelier:check-ready'));
  }
  if (boxes.length === 0) return;
  void fetch('/api/progress', { credentials: 'same-origin' })
    .then((res) => (res.ok ? (res.json() as Promise<{ passed: { lab: string; checkId: string }[] }>) : { passed: [] }))
    .then(({ passed: done }) => {
      for (const p of done) {
        for (const box of boxes.filter((b) => b.dataset.lab === p.lab && b.dataset.check === p.checkId)) {
          if (!box.dataset.state) show(box, 'passed', S.alreadyPassed);
        }
        record(doc, p.lab, p.checkId);
      }
    })
    .catch(() => {});
}
