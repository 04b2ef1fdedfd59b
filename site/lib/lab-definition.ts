// What the site's build knows of a lab definition: its title, hosts, preview path and checks, for the
// lab panel and the chapter's links to its labs. The catalog comes from astro.config.mjs as a virtual
// module (built from sandbox/labs/catalog.ts): site/ imports nothing of sandbox/ or server/, and nothing
// of it ships to the browser but what a page renders.
import catalog from 'virtual:atelier/labs';
import { frenchText } from './french-typography.ts';

export type LabDefinition = (typeof catalog)[number];

/** The catalog with French typography on what the page shows of it: lab and check titles. */
const labs: readonly LabDefinition[] = catalog.map((lab) => ({
  ...lab,
  title: frenchText(lab.title),
  checks: lab.checks.map((c) => ({ ...c, title: frenchText(c.title) })),
}));

/** The lab definition with this id, or undefined. */
export function labDefinition(id: string): LabDefinition | undefined {
  return labs.find((lab) => lab.id === id);
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

/** Every lab of the catalog (for lookups such as ./run-step.ts). */
export function labCatalog(): readonly LabDefinition[] {
  return labs;
}
