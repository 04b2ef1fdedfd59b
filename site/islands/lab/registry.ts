// What the lab panels of one page share: one panel per lab kind holds its terminals at a time (two would
// take the shell from each other), and page-wide wake-ups (network back, tab visible again) reach every
// panel.

export interface RegisteredPanel {
  /** another panel of the page took this lab's terminals */
  release(): void;
  /** the page woke up: check the connections now */
  wake(): void;
}

const holders = new Map<string, RegisteredPanel>();
const panels = new Set<RegisteredPanel>();
let listening = false;

/** `panel` holds the terminals of lab `name` from now on; the one that held them is released. */
export function claim(name: string, panel: RegisteredPanel): void {
  const previous = holders.get(name);
  holders.set(name, panel);
  if (previous && previous !== panel) previous.release();
}

/** `panel` no longer holds the terminals of lab `name` (if it did). */
export function unclaim(name: string, panel: RegisteredPanel): void {
  if (holders.get(name) === panel) holders.delete(name);
}

export function holds(name: string, panel: RegisteredPanel): boolean {
  return holders.get(name) === panel;
}

/** Another panel than `panel` holds the terminals of lab `name`. */
export function heldByAnother(name: string, panel: RegisteredPanel): boolean {
  const holder = holders.get(name);
  return holder !== undefined && holder !== panel;
}

/** Registers a panel for the page's wake-ups (the listeners are set once per page). */
export function register(panel: RegisteredPanel): void {
  panels.add(panel);
  if (listening) return;
  listening = true;
  const wakeAll = () => {
    for (const p of panels) p.wake();
  };
  window.addEventListener('online', wakeAll);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') wakeAll();
  });
}
