// The lab catalog, given to the site's build by astro.config.mjs (see sandbox/labs/catalog.ts).
declare module 'virtual:atelier/labs' {
  const labs: {
    id: string;
    title: string;
    hosts: { name: string }[];
    preview: { path: string; sites: { label: string; path: string }[] };
    checks: { id: string; title: string; after: string | undefined; diagnosed: boolean }[];
    steps: { id: string; host: string; run: string }[];
  }[];
  export default labs;
}
