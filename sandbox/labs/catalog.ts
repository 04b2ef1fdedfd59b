// What the course site shows of each lab (titles, hosts, the preview's first page, the checks), as plain
// data. The site's build gets it through a virtual module that astro.config.mjs provides
// (`virtual:atelier/labs`): site/ imports nothing of sandbox/ or server/.
import { loadLabs } from './index.ts';

export interface LabCatalogEntry {
  id: string;
  title: string;
  hosts: { name: string }[];
  /** the preview's first page; `sites`: its virtual hosts, in order (site n is previewed at the lab's n-th origin) */
  preview: { path: string; sites: { label: string; path: string }[] };
  /**
   * `after`: the step right after which the check holds ("start", or the last step when the check holds
   * after the whole solution); `diagnosed`: it has diagnoses, or says why it cannot (`undiagnosed`).
   */
  checks: { id: string; title: string; after: string | undefined; diagnosed: boolean }[];
  /** the solution's named steps: a chapter's <Run step> block shows `run` as it is */
  steps: { id: string; host: string; run: string }[];
}

export function labCatalog(): LabCatalogEntry[] {
  return loadLabs().map((lab) => ({
    id: lab.id,
    title: lab.title,
    hosts: lab.hosts.map((h) => ({ name: h.name })),
    preview: {
      path: lab.preview.path,
      sites: lab.preview.sites.map((s) => ({ label: s.label, path: s.path ?? lab.preview.path })),
    },
    checks: lab.checks.map((c) => ({
      id: c.id,
      title: c.title,
      after: c.after ?? lab.solution.at(-1)?.id,
      diagnosed: c.diagnoses.length > 0 || c.undiagnosed !== undefined,
    })),
    steps: lab.solution.flatMap((s) => (s.id === undefined ? [] : [{ id: s.id, host: s.host, run: s.run }])),
  }));
}
