// The lab definitions, found by convention: a file of sandbox/labs/ whose default export is
// `defineLab({...})` is a lab, named by its file (nginx-remote.ts defines the lab nginx-remote); other
// files (common.ts, diagnoses.ts, ...) are helpers. Nothing to register by hand. This is the one module the
// build (astro.config.mjs, through catalog.ts), the server (server/compose.ts) and the tools (scripts/lab.ts,
// the tests) load labs through. Lab definitions import nothing from server/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LabDefinitionError, isDefinedLab, validateLab, type FileProblems, type Lab } from './schema.ts';

/** Where lab files live, and where seeded files' `source` paths start. */
export const LABS_DIR = new URL('./', import.meta.url);
export const FILES_DIR = new URL('./files/', import.meta.url);

/** How a lab file starts its definition (a cheap test that keeps helpers, and this module, out of the import). */
const DEFINES_A_LAB = /^export default defineLab\(/m;

/** The lab files of the directory, by file name, e.g. sandbox/labs/nginx-remote.ts. */
export function labFiles(dir: URL = LABS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && DEFINES_A_LAB.test(readFileSync(new URL(f, dir), 'utf8')))
    .sort()
    .map((f) => fileURLToPath(new URL(f, dir)));
}

/** Short name of a file for messages: sandbox/labs/x.ts. */
export const shortName = (file: string) => file.replace(/^.*\/(sandbox\/labs\/)/, '$1');

/**
 * Imports and validates every lab file; all problems of all files are reported together in one error.
 * `load` imports one file (the dev server passes one that bypasses the module cache).
 */
export async function discoverLabs(dir: URL = LABS_DIR, load: (file: string) => Promise<unknown> = (f) => import(f)): Promise<Lab[]> {
  const labs: Lab[] = [];
  const errors: FileProblems[] = [];
  for (const file of labFiles(dir)) {
    const name = shortName(file);
    let exported: unknown;
    try {
      exported = ((await load(file)) as { default?: unknown }).default;
    } catch (err) {
      errors.push({ file: name, problems: [{ line: 1, path: '', message: (err as Error).message, fix: 'fix this error in the file' }] });
      continue;
    }
    if (!isDefinedLab(exported)) {
      errors.push({
        file: name,
        problems: [
          { line: 1, path: '', message: 'its default export is not defineLab({...})', fix: 'write export default defineLab({ ... })' },
        ],
      });
      continue;
    }
    const result = validateLab(name, exported, {
      source: readFileSync(file, 'utf8'),
      fileName: file.replace(/^.*\//, '').replace(/\.ts$/, ''),
      seeded: (source) => existsSync(new URL(source, FILES_DIR)),
    });
    if ('problems' in result) errors.push(result);
    else labs.push(result);
  }
  if (errors.length > 0) throw new LabDefinitionError(errors);
  return labs;
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
let current: Lab[] = isMain ? [] : await discoverLabs();

/** All labs, validated (loaded once when this module is first imported; see reloadLabs). */
export function loadLabs(): Lab[] {
  return current;
}

/** One lab by id, or undefined. */
export function getLab(id: string): Lab | undefined {
  return current.find((l) => l.id === id);
}

/**
 * Loads the lab files again from disk (the dev server, after an edit). A child process imports them, so that
 * an edited helper (common.ts) counts too, which the module cache would hide; on error the labs stay as
 * they were and the error is thrown.
 */
export async function reloadLabs(): Promise<Lab[]> {
  const { execFile } = await import('node:child_process');
  const json = await new Promise<string>((ok, fail) =>
    execFile(process.execPath, [fileURLToPath(import.meta.url), '--json'], { maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? fail(new Error(stderr.trim() || err.message)) : ok(stdout),
    ),
  );
  current = JSON.parse(json) as Lab[];
  return current;
}

// `node sandbox/labs/index.ts --json`: the validated labs as JSON, or the error's message alone (reloadLabs).
if (isMain && process.argv.includes('--json')) {
  try {
    process.stdout.write(JSON.stringify(await discoverLabs()));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
