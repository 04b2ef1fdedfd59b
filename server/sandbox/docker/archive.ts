// Seeded files travel to a container as one tar archive (inside its preparation script), built in memory:
// the files of a lab are small, and reading them first means a missing file fails before any engine call.
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import tar from 'tar-stream';
import type { LabHost } from '../../../sandbox/labs/schema.ts';

export interface ArchiveEntry {
  /** absolute path inside the host */
  path: string;
  content: Buffer;
  mode: number;
}

/** Reads a host's seeded files from `filesRoot` (sandbox/labs/files). */
export async function readSeededFiles(host: LabHost, filesRoot: string): Promise<ArchiveEntry[]> {
  const root = resolve(filesRoot);
  return Promise.all(
    host.files.map(async (f) => {
      const source = resolve(root, f.source);
      if (!source.startsWith(root + sep)) throw new Error(`seeded file ${f.source} is outside ${root}`);
      try {
        return { path: f.path, content: await readFile(source), mode: f.mode };
      } catch (err) {
        throw new Error(`host ${host.name}: cannot read seeded file ${source}: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
}

/** A tar archive to extract at "/", owned by root. */
export async function tarOf(entries: ArchiveEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((ok, fail) => {
    pack.on('end', () => ok());
    pack.on('error', fail);
  });
  const mtime = new Date();
  for (const e of entries) {
    pack.entry({ name: e.path.replace(/^\/+/, ''), mode: e.mode, uid: 0, gid: 0, mtime, size: e.content.length }, e.content);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
