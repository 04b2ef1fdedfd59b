// `npm run new:chapter -- <NN-slug> "<titre>"`: a new chapter (content/NN-slug.mdx) and its lab
// (sandbox/labs/<slug>.ts), from a template that builds and passes its own checks as it is: one Nginx host,
// one solution step that changes the page, a check before and after it. The author then rewrites both.
// Tested by tests/integration/new-chapter.test.ts (scaffold in a copy, build, npm run lab -- check).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npm run new:chapter -- <NN-slug> "<titre>"   e.g. npm run new:chapter -- 07-cache "Mettre en cache avec Nginx"';

/** The chapter's MDX: frontmatter, a demo with its lab panel, a step to run and a check. */
export function chapterTemplate(title: string, lab: string, chapter: number): string {
  return `---
title: ${JSON.stringify(title)}
chapter: ${chapter}
summary: Une ou deux phrases qui disent ce que l’étudiant va apprendre.
labs: [${lab}]
status: published
---

## Démo

Le lab de ce chapitre a une machine, \`web\`, avec Nginx. Lancez-le, puis regardez l’onglet « Navigateur »\u202F: Nginx sert sa page par défaut.

<Lab name="${lab}" />

<Check lab="${lab}" id="default-page">Nginx répond</Check>

Remplacez la page d’accueil\u202F:

<Run lab="${lab}" step="write-page" exec />

<Check lab="${lab}" id="page">La page d’accueil affiche « Bonjour »</Check>
`;
}

/** The lab definition: every field is explained in sandbox/labs/schema.ts. */
export function labTemplate(slug: string, title: string, lab: string): string {
  return `// The lab of ${slug}: one host, web, running Nginx with Debian's default site.
import { runs } from './common.ts';
import { nginx } from './diagnoses.ts';
import { defineLab } from './schema.ts';

const PAGE = '/var/www/html/index.html';

export default defineLab({
  id: '${lab}',
  title: ${JSON.stringify(title)},
  chapter: '${slug}',
  hosts: [
    {
      name: 'web',
      ...runs('nginx'),
      boot: ['service nginx start'],
      workdir: '/var/www/html',
    },
  ],
  preview: { host: 'web', port: 80, path: '/' },
  solution: [
    {
      id: 'write-page',
      title: 'Écrire la page d’accueil',
      host: 'web',
      run: \`echo '<h1>Bonjour</h1>' > \${PAGE}\`,
      files: [PAGE],
    },
  ],
  checks: [
    {
      id: 'default-page',
      title: 'Nginx répond',
      host: 'web',
      run: "curl -s -o /dev/null -w '%{http_code}' http://localhost/",
      expect: { stdoutIncludes: ['200'] },
      after: 'start',
      // Why « Vérifier » fails, from the lab's real state (sandbox/labs/diagnoses.ts; docs/authoring.md).
      diagnoses: [nginx.stopped({ after: 'start', host: 'web', run: 'service nginx stop' })],
    },
    {
      id: 'page',
      title: 'La page d’accueil affiche « Bonjour »',
      host: 'web',
      run: 'curl -s http://localhost/',
      expect: { stdoutIncludes: ['<h1>Bonjour</h1>'] },
      after: 'write-page',
      diagnoses: [
        nginx.stopped({ after: 'write-page', host: 'web', run: 'service nginx stop' }),
        {
          id: 'page-not-written',
          host: 'web',
          run: \`! grep -q '<h1>Bonjour</h1>' \${PAGE}\`,
          explain: 'La page d’accueil (/var/www/html/index.html) ne contient pas encore <h1>Bonjour</h1>.',
          hint: 'Lancez la commande de l’étape «\\u00a0Écrire la page d’accueil\\u00a0», puis vérifiez de nouveau.',
          example: { after: 'start', host: 'web', run: 'true' },
        },
      ],
    },
  ],
});
`;
}

/** Writes both files; throws with what to do on a bad slug, a taken number or an existing file. */
export function scaffold(slug: string, title: string, base = root): { chapter: string; lab: string } {
  const m = /^(\d{2})-([a-z][a-z0-9-]{0,30})$/.exec(slug);
  if (!m) throw new Error(`"${slug}" is no chapter slug: two digits, a dash, then lowercase letters, digits and dashes (e.g. 07-cache)`);
  if (!title.trim()) throw new Error(`no title: ${USAGE}`);
  const [, number, lab] = m as unknown as [string, string, string];
  const taken = readdirSync(`${base}/content`).find((f) => f.startsWith(`${number}-`));
  if (taken) throw new Error(`chapter ${Number(number)} is already content/${taken}: pick another number`);
  const chapter = `content/${slug}.mdx`;
  const labFile = `sandbox/labs/${lab}.ts`;
  if (existsSync(`${base}/${labFile}`)) throw new Error(`${labFile} exists already: pick another slug`);
  writeFileSync(`${base}/${labFile}`, labTemplate(slug, title, lab), { flag: 'wx' });
  writeFileSync(`${base}/${chapter}`, chapterTemplate(title, lab, Number(number)), { flag: 'wx' });
  return { chapter, lab: labFile };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [slug, title, ...extra] = process.argv.slice(2);
  if (!slug || title === undefined || extra.length > 0) {
    console.error(USAGE);
    process.exit(2);
  }
  try {
    const made = scaffold(slug, title);
    const lab = made.lab.replace(/^.*\//, '').replace(/\.ts$/, '');
    console.log(`created ${made.chapter} and ${made.lab}
next:
  npm run dev                      the chapter at /${slug}/, live as you edit both files
  npm run lab -- check ${lab}       runs the lab's solution and checks, and the chapter's <Run> blocks
  docs/authoring.md                the walk-through`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
}
