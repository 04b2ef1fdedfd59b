// ARIA tabs (WAI-ARIA Authoring Practices, "tabs with automatic activation"): one tab stop for the
// whole tab list, arrow keys move between tabs, Home/End jump to the ends, the panel follows.

export interface Tabs {
  select(tab: HTMLElement, focus?: boolean): void;
  selected(): HTMLElement | undefined;
  tabs(): HTMLElement[];
}

export function setupTabs(tablist: HTMLElement, onSelect: (tab: HTMLElement) => void): Tabs {
  const tabs = () => Array.from(tablist.querySelectorAll<HTMLElement>('[role="tab"]')).filter((t) => !t.hidden);
  const panelOf = (tab: HTMLElement) => document.getElementById(tab.getAttribute('aria-controls') ?? '');

  const select = (tab: HTMLElement, focus = false) => {
    for (const t of tabs()) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      const panel = panelOf(t);
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    onSelect(tab);
  };

  tablist.addEventListener('click', (e) => {
    const tab = (e.target as Element).closest<HTMLElement>('[role="tab"]');
    if (tab && tablist.contains(tab)) select(tab);
  });
  tablist.addEventListener('keydown', (e) => {
    const list = tabs();
    const current = list.indexOf(e.target as HTMLElement);
    if (current < 0) return;
    const next = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: list.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const tab = list[(next + list.length) % list.length];
    if (tab) select(tab, true);
  });

  return {
    select,
    selected: () => tabs().find((t) => t.getAttribute('aria-selected') === 'true'),
    tabs,
  };
}
