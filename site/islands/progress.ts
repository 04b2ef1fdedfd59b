// The learner's progress on the page: each demo's « 3 étapes sur 5 » (site/components/Progress.astro, in
// the table of contents, the home page and the lab panel) and the state of each step in the panel
// (LabSteps.astro). From GET /api/progress on load, then from the « Vérifier » buttons' events
// (`atelier:progress`: lab → passed check ids; `atelier:check`: one answer).
import { PROGRESS_STRINGS as S } from './progress-strings.ts';

type State = 'todo' | 'failed' | 'passed';
const passed = new Map<string, Set<string>>();
const failed = new Map<string, Set<string>>();
const add = (map: Map<string, Set<string>>, lab: string, id: string) => (map.get(lab) ?? map.set(lab, new Set()).get(lab)!).add(id);

function draw(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-progress-lab]')) {
    const lab = el.dataset.progressLab ?? '';
    const ids = (el.dataset.progressChecks ?? '').split(' ').filter(Boolean);
    const done = ids.filter((id) => passed.get(lab)?.has(id)).length;
    el.textContent = S.count(done, ids.length);
    el.dataset.done = String(done);
    el.hidden = false;
  }
  for (const step of document.querySelectorAll<HTMLElement>('[data-step-lab][data-step-check]')) {
    const [lab, id] = [step.dataset.stepLab ?? '', step.dataset.stepCheck ?? ''];
    const state: State = passed.get(lab)?.has(id) ? 'passed' : failed.get(lab)?.has(id) ? 'failed' : 'todo';
    if (step.dataset.state === state) continue;
    step.dataset.state = state;
    step.querySelector('.lab-steps__mark')!.textContent = S.mark[state];
    step.querySelector('.lab-steps__state')!.textContent = S.state[state];
  }
}

document.addEventListener('atelier:progress', (e) => {
  for (const [lab, ids] of Object.entries((e as CustomEvent<Record<string, string[]>>).detail)) for (const id of ids) add(passed, lab, id);
  draw();
});
document.addEventListener('atelier:check', (e) => {
  const { lab, check, state } = (e as CustomEvent<{ lab: string; check: string; state: string }>).detail;
  if (state === 'failed') add(failed, lab, check);
  draw();
});

if (document.querySelector('[data-progress-lab]')) {
  void fetch('/api/progress', { credentials: 'same-origin' })
    .then((res) => (res.ok ? (res.json() as Promise<{ passed: { lab: string; checkId: string }[] }>) : { passed: [] }))
    .then(({ passed: done }) => {
      for (const p of done) add(passed, p.lab, p.checkId);
      draw();
    })
    .catch(() => {});
}
