// What the progress of the demos says. Its own module, apart from check-strings.ts: the progress script
// loads up front on every chapter page, and sharing a module with the « Vérifier » code would make the
// bundler ship that module as one more chunk to fetch before anything is in view.
const NBSP = '\u00A0';

export const PROGRESS_STRINGS = {
  /** « 0 étape sur 5 », « 3 étapes sur 5 » (French: 0 and 1 are singular) */
  count: (done: number, total: number) => `${done}${NBSP}étape${done > 1 ? 's' : ''} sur ${total}`,
  mark: { todo: '○', failed: '✗', passed: '✓' },
  state: { todo: '(à faire)', failed: '(pas encore réussie)', passed: '(réussie)' },
} as const;
