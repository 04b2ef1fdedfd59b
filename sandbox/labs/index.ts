// The registry of lab definitions: one file per lab, each validated by the schema so that an error names
// its file. Lab definitions import nothing from server/.
import { parseLab, type Lab } from './schema.ts';
import apacheRemote from './apache-remote.ts';
import nginxRemote from './nginx-remote.ts';
import apacheLocal from './apache-local.ts';
import nginxLocal from './nginx-local.ts';
import finishRequest from './finish-request.ts';

/** Every lab file, by file name (the order of the chapter). */
const SOURCES: ReadonlyArray<readonly [file: string, definition: unknown]> = [
  ['sandbox/labs/apache-remote.ts', apacheRemote],
  ['sandbox/labs/nginx-remote.ts', nginxRemote],
  ['sandbox/labs/apache-local.ts', apacheLocal],
  ['sandbox/labs/nginx-local.ts', nginxLocal],
  ['sandbox/labs/finish-request.ts', finishRequest],
];

/** Where seeded files' `source` paths start. */
export const FILES_DIR = new URL('./files/', import.meta.url);

let cache: Lab[] | undefined;

/** All labs, validated; throws on the first invalid definition with its file name and each bad field. */
export function loadLabs(): Lab[] {
  cache ??= SOURCES.map(([file, def]) => {
    const lab = parseLab(file, def);
    const expected = file.replace(/^.*\//, '').replace(/\.ts$/, '');
    if (lab.id !== expected) throw new Error(`Invalid lab definition in ${file}:\n  - id: "${lab.id}" must be the file name "${expected}"`);
    return lab;
  });
  const ids = new Set<string>();
  for (const lab of cache) {
    if (ids.has(lab.id)) throw new Error(`duplicate lab id "${lab.id}"`);
    ids.add(lab.id);
  }
  return cache;
}

/** One lab by id, or undefined. */
export function getLab(id: string): Lab | undefined {
  return loadLabs().find((l) => l.id === id);
}
