// « Voir la solution de cette étape » and « Appliquer » under a « Vérifier » (site/components/Check.astro).
// The server compares the learner's files of the step with the solution's and says what applying would
// do (POST …/checks/{id}/solution); this draws it: the step's commands, a diff per file (« votre fichier »
// −, « la solution » +), and « Appliquer », which asks first in a modal dialog (keyboard: Tab between its
// buttons, Escape cancels), then asks the server to run the step (…/apply). The browser sends only the
// lab and the check id.
import { SOLUTION_STRINGS as S } from './check-strings.ts';

interface Hunk {
  fromLine: number;
  toLine: number;
  lines: { op: ' ' | '-' | '+'; text: string }[];
}
interface SolutionView {
  steps: { title: string; host: string; run: string }[];
  files: { host: string; path: string; same: boolean; mine: string; solution: string; hunks: Hunk[] }[];
  apply:
    | { possible: true; restores: { host: string; path: string }[]; runs: { host: string; run: string }[] }
    | { possible: false; reason: string };
}
type ApplyOutcome = { ok: true } | { ok: false; step: string; output: string };

const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

async function post<T>(path: string): Promise<{ ok: boolean; body: T & { message?: string } }> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
    credentials: 'same-origin',
  });
  return { ok: res.ok, body: (await res.json()) as T & { message?: string } };
}

function diffOf(hunks: Hunk[]): HTMLElement {
  const pre = el('pre', { className: 'solution__diff' });
  for (const h of hunks) {
    pre.append(el('span', { className: 'solution__hunk' }, S.hunk(h.fromLine, h.toLine)));
    for (const line of h.lines) {
      if (line.op === '-') pre.append(el('del', {}, el('span', { className: 'visually-hidden' }, S.lineMine), `− ${line.text}`));
      else if (line.op === '+') pre.append(el('ins', {}, el('span', { className: 'visually-hidden' }, S.lineTheirs), `+ ${line.text}`));
      else pre.append(el('span', {}, `  ${line.text}`));
    }
  }
  return pre;
}

function draw(region: HTMLElement, view: SolutionView, onApply: () => void): void {
  const parts: Node[] = [];
  if (view.steps.length > 0) {
    parts.push(el('p', { className: 'solution__title' }, S.stepsTitle(view.steps.length)));
    parts.push(
      el(
        'ol',
        { className: 'solution__steps' },
        ...view.steps.map((s) => el('li', {}, `${s.title} (${S.onHost(s.host)})`, el('pre', {}, el('code', {}, s.run)))),
      ),
    );
  }
  if (view.steps.length > 0 && view.files.length === 0) parts.push(el('p', {}, S.noFiles));
  if (view.files.length > 0) parts.push(el('p', { className: 'solution__title' }, S.filesTitle));
  for (const f of view.files) {
    const name = el('p', { className: 'solution__file' }, el('code', {}, f.path), ` (${S.onHost(f.host)})`);
    if (f.same) {
      parts.push(name, el('p', {}, S.same));
      continue;
    }
    const legend = el(
      'p',
      { className: 'solution__legend' },
      el('span', { className: 'solution__mine' }, `− ${S.mine}${f.mine === 'absent' ? ` ${S.absent}` : ''}`),
      el('span', { className: 'solution__theirs' }, `+ ${S.theirs}${f.solution === 'absent' ? ` ${S.absent}` : ''}`),
    );
    parts.push(name, legend, diffOf(f.hunks));
  }
  if (view.apply.possible) {
    const button = el('button', { type: 'button', className: 'pill-button solution__apply' }, S.apply);
    button.addEventListener('click', onApply);
    parts.push(button);
  } else parts.push(el('p', { className: 'solution__refusal' }, view.apply.reason));
  region.replaceChildren(...parts);
}

/** The modal that says what « Appliquer » will change; resolves true when the learner confirms. */
function confirmApply(view: SolutionView & { apply: { possible: true } }): Promise<boolean> {
  const title = el('h2', { id: 'solution-dialog-title' }, S.confirmTitle);
  const list = el('ul');
  for (const r of view.apply.restores) list.append(el('li', {}, S.willRestore(r.path, r.host)));
  for (const r of view.apply.runs) list.append(el('li', {}, S.willRun(r.host), el('pre', {}, el('code', {}, r.run))));
  const cancel = el('button', { type: 'button', className: 'pill-button' }, S.cancel);
  const confirm = el('button', { type: 'button', className: 'pill-button solution-dialog__confirm' }, S.apply);
  const dialog = el(
    'dialog',
    { className: 'solution-dialog' },
    title,
    list,
    el('p', {}, S.untouched),
    el('div', { className: 'solution-dialog__actions' }, cancel, confirm),
  );
  dialog.setAttribute('aria-labelledby', title.id);
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    dialog.showModal();
    cancel.focus(); // the safe choice has the focus
  });
}

/**
 * Wires a check's « Voir la solution de cette étape ». `verify` runs the check (after « Appliquer »).
 */
export function wireSolution(box: HTMLElement, verify: () => Promise<void>): void {
  const toggle = box.querySelector<HTMLButtonElement>('.check__solution-button');
  const region = box.querySelector<HTMLElement>('.check__solution');
  if (!toggle || !region) return;
  const { lab, check } = box.dataset as { lab: string; check: string };
  const base = `/api/labs/${lab}/checks/${check}`;

  const load = async (): Promise<void> => {
    region.replaceChildren(el('p', {}, S.loading));
    try {
      const { ok, body } = await post<SolutionView>(`${base}/solution`);
      if (!ok) return void region.replaceChildren(el('p', { className: 'solution__refusal' }, body.message ?? S.error));
      draw(region, body, () => void apply(body));
    } catch {
      region.replaceChildren(el('p', { className: 'solution__refusal' }, S.error));
    }
  };

  const apply = async (view: SolutionView): Promise<void> => {
    if (!view.apply.possible) return;
    const button = region.querySelector<HTMLButtonElement>('.solution__apply');
    if (!(await confirmApply(view as SolutionView & { apply: { possible: true } }))) return void button?.focus();
    button?.setAttribute('aria-disabled', 'true');
    const status = el('p', { className: 'solution__status', role: 'status' }, S.applying);
    region.append(status);
    try {
      const { ok, body } = await post<ApplyOutcome>(`${base}/apply`);
      if (!ok) return void status.replaceChildren(body.message ?? S.error);
      if (!body.ok) return void status.replaceChildren(S.applyFailed(body.step), el('pre', {}, body.output));
      await load(); // the diff as it is now: « déjà comme la solution »
      region.append(el('p', { className: 'solution__status' }, S.applied));
      box.querySelector<HTMLButtonElement>('.check__button')?.focus();
      await verify();
    } catch {
      status.replaceChildren(S.error);
    } finally {
      button?.removeAttribute('aria-disabled');
    }
  };

  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', String(!open));
    toggle.textContent = open ? S.show : S.hide;
    region.hidden = open;
    if (!open) void load();
  });
}
