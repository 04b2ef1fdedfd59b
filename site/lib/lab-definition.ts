// What the site's build reads of a lab definition (sandbox/labs): its title, hosts and preview path,
// for the lab panel and the chapter's links to its labs. Read at build time through the registry
// (sandbox/labs/index.ts, its getLab): nothing of it ships to the browser. Only the registry is
// imported, never the other files of sandbox/labs (some are command-line tools). Without it, or for an
// unknown id, callers fall back on their own defaults.

declare global {
  interface ImportMeta {
    /** Vite's, at build time: the modules matching a pattern, imported at once */
    glob<T>(pattern: string, options: { eager: true }): Record<string, T>;
  }
}

export interface LabDefinition {
  id: string;
  title?: string;
  hosts: { name: string }[];
  preview?: { path?: string };
}

/** The lab definition with this id, or undefined. */
export function labDefinition(id: string): LabDefinition | undefined {
  const registry = Object.values(import.meta.glob<{ getLab?: (id: string) => unknown }>('/sandbox/labs/index.ts', { eager: true }))[0];
  let lab: unknown;
  try {
    lab = registry?.getLab?.(id);
  } catch {
    return undefined; // unknown id
  }
  const ok = typeof lab === 'object' && lab !== null && (lab as LabDefinition).id === id && Array.isArray((lab as LabDefinition).hosts);
  return ok ? (lab as LabDefinition) : undefined;
}

/**
 * The id of a lab's panel on its page: `lab-<name>` for the first panel of that lab, `lab-<name>-2`
 * for a second one. Stable, so the chapter can link to its labs (`#lab-apache-remote`). `seen` counts
 * the panels of the page being rendered.
 */
export function labPanelId(name: string, seen: Map<string, number>): string {
  const n = (seen.get(name) ?? 0) + 1;
  seen.set(name, n);
  return n === 1 ? `lab-${name}` : `lab-${name}-${n}`;
}
