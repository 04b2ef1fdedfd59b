// ARIA tabs (WAI-ARIA Authoring Practices, "tabs with automatic activation"): one tab stop for the
// whole tab list, arrow keys move between tabs (the focus stays on the tabs), Home/End jump to the
// ends, the panel follows. onSelect is told who selected the tab: a click, a key, or the program.

/** Who selected a tab: only a click may move the focus into the panel (arrow keys keep it on the tabs). */
export type SelectedBy = 'pointer' | 'keyboard' | 'program';

export interface Tabs {
  select(tab: HTMLElement, focus?: boolean, by?: SelectedBy): void;
  selected(): HTMLElement | undefined;
  tabs(): HTMLElement[];
}

export function setupTabs(tablist: HTMLElement, onSelect: (tab: HTMLElement, by: SelectedBy) => void): Tabs {
  const tabs = () => Array.from(tablist.querySelectorAll<HTMLElement>('[role="tab"]')).filter((t) => !t.hidden);
  const panelOf = (tab: HTMLElement) => document.getElementById(tab.getAttribute('aria-controls') ?? '');

  const select = (tab: HTMLElement, focus = false, by: SelectedBy = 'program') => {
    for (const t of tabs()) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      const panel = panelOf(t);
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    onSelect(tab, by);
  };

  tablist.addEventListener('click', (e) => {
    const tab = (e.target as Element).closest<HTMLElement>('[role="tab"]');
    // A click, or Enter / Space on a focused tab (a click event too): detail 0 is the keyboard's.
    if (tab && tablist.contains(tab)) select(tab, false, (e as MouseEvent).detail === 0 ? 'keyboard' : 'pointer');
  });
  tablist.addEventListener('keydown', (e) => {
    const list = tabs();
    const current = list.indexOf(e.target as HTMLElement);
    if (current < 0) return;
    const next = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: list.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const tab = list[(next + list.length) % list.length];
    if (tab) select(tab, true, 'keyboard');
  });

  return {
    select,
    selected: () => tabs().find((t) => t.getAttribute('aria-selected') === 'true'),
    tabs,
  };
}
