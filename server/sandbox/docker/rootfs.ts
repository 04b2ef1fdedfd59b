// Bounded writable space without storage-driver quotas. The image's root filesystem is mounted
// read-only; each directory a learner may write (/etc, /var, /root, /tmp, ... and the directories of
// seeded files) is a size-limited tmpfs volume, filled at creation with the image's own content of that
// directory. The image content is read once per image from a never-started container and kept in memory.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import type { LabHost } from '../../../sandbox/labs/schema.ts';
import { bounded } from './engine.ts';

export interface WritableDir {
  path: string;
  sizeMb: number;
}

/** Docker bind-mounts these over /etc; extracting over them fails (and would change the live file). */
const ENGINE_MANAGED = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);

const dirOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
const covers = (dir: string, path: string) => dir === '/' || path === dir || path.startsWith(`${dir}/`);

/**
 * The writable directories of a host: the configured ones plus the directory of every seeded file not
 * already inside one. A directory inside another is dropped (the outer one holds it).
 */
export function writableDirs(host: LabHost, configured: Record<string, number>, seedDirMb: number): WritableDir[] {
  const dirs: WritableDir[] = Object.entries(configured).map(([path, sizeMb]) => ({ path, sizeMb }));
  for (const f of host.files) {
    if (!dirs.some((d) => covers(d.path, f.path))) dirs.push({ path: dirOf(f.path), sizeMb: seedDirMb });
  }
  return dirs.filter((d) => !dirs.some((o) => o !== d && o.path !== d.path && covers(o.path, d.path)));
}

/** The directory of `dirs` that holds `path` (for putArchive on a read-only root filesystem). */
export function coveringDir(dirs: WritableDir[], path: string): string | undefined {
  return dirs.find((d) => covers(d.path, path))?.path;
}

export interface DirSnapshot {
  mode: number;
  uid: number;
  gid: number;
  /** the directory's content as a tar with paths relative to it (for the engine's archive API) */
  archive: Buffer;
  /**
   * the same content with paths from "/" and links as in the image, owned by root, for `tar -x -C /`
   * inside the host; `owners` then gives back the entries that are not root's
   */
  rooted: Buffer;
  owners: { path: string; uid: number; gid: number }[];
  entries: number;
}

/**
 * Hard links are relative to the archive root. Docker refuses a relative symlink that points outside the
 * directory being extracted (e.g. /etc/os-release -> ../usr/lib/os-release): it becomes absolute,
 * which resolves to the same file inside the container.
 */
function linkTarget(dir: string, rel: string, header: tar.Headers): string | null | undefined {
  const link = header.linkname;
  if (!link) return link;
  if (header.type === 'link') return link.replace(/^[^/]+\/?/, '');
  if (header.type !== 'symlink' || link.startsWith('/')) return link;
  const absolute = posix.join(posix.dirname(posix.join(dir, rel)), link);
  return absolute === dir || absolute.startsWith(`${dir}/`) ? link : absolute;
}

async function tarFrom(entries: { header: tar.Headers; body: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((ok, fail) => {
    pack.on('end', ok);
    pack.on('error', fail);
  });
  for (const e of entries) pack.entry(e.header, e.body);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Reads a tar stream of `/path` (entries "name/...") into the two archives of a DirSnapshot. */
async function relativeArchive(path: string, stream: NodeJS.ReadableStream): Promise<DirSnapshot | null> {
  const extract = tar.extract();
  const entries: { header: tar.Headers; body: Buffer }[] = [];
  let root: tar.Headers | null = null;
  const strip = (name: string) => name.replace(/^[^/]+\/?/, '');
  extract.on('entry', (header, body, next) => {
    const parts: Buffer[] = [];
    body.on('data', (c: Buffer) => parts.push(c));
    body.on('end', () => {
      const rel = strip(header.name);
      if (rel === '') root = header;
      else if (!ENGINE_MANAGED.has(`${path}/${rel.replace(/\/$/, '')}`)) entries.push({ header, body: Buffer.concat(parts) });
      next();
    });
    body.on('error', (err: Error) => extract.destroy(err));
  });
  const extracted = new Promise<void>((ok, fail) => {
    extract.on('finish', ok);
    extract.on('error', fail);
  });
  (stream as Readable).pipe(extract);
  await extracted;
  const top = root as tar.Headers | null;
  if (top?.type !== 'directory') return null; // a symlink or a file: nothing to mount there

  const base = path.slice(1); // "etc", "usr/local/x": entry names from "/"
  const fromRoot = (name: string) => `${base}/${strip(name)}`;
  const relative = entries.map(({ header, body }) => {
    const rel = strip(header.name);
    return { header: { ...header, name: rel, linkname: linkTarget(path, rel, header) }, body };
  });
  const owners: DirSnapshot['owners'] = [];
  const rooted: { header: tar.Headers; body: Buffer }[] = [{ header: { ...top, name: `${base}/`, uid: 0, gid: 0 }, body: Buffer.alloc(0) }];
  for (const { header, body } of entries) {
    const name = fromRoot(header.name);
    const linkname = header.type === 'link' && header.linkname ? fromRoot(header.linkname) : header.linkname;
    if ((header.uid ?? 0) !== 0 || (header.gid ?? 0) !== 0) {
      owners.push({ path: `/${name.replace(/\/$/, '')}`, uid: header.uid ?? 0, gid: header.gid ?? 0 });
    }
    rooted.push({ header: { ...header, name, linkname, uid: 0, gid: 0, uname: 'root', gname: 'root' }, body });
  }
  return {
    mode: top.mode ?? 0o755,
    uid: top.uid ?? 0,
    gid: top.gid ?? 0,
    archive: await tarFrom(relative),
    rooted: await tarFrom(rooted),
    owners,
    entries: entries.length,
  };
}

const END_OF_ARCHIVE = 1024;

/** One archive with the entries of `first` then those of `second` (later entries replace earlier ones). */
export function concatTars(first: Buffer, second: Buffer): Buffer {
  return Buffer.concat(joinTars([first, second]));
}

/**
 * The pieces of one archive made of several, in order (later entries replace earlier ones): views
 * without their end-of-archive blocks, nothing copied (a lab host's archive is megabytes).
 */
export function joinTars(archives: Buffer[]): Buffer[] {
  return archives.map((archive, i) => {
    if (i === archives.length - 1) return archive;
    const tail = archive.subarray(archive.length - END_OF_ARCHIVE);
    if (archive.length < END_OF_ARCHIVE || tail.some((b) => b !== 0)) throw new Error('not a tar archive ending in two zero blocks');
    return archive.subarray(0, archive.length - END_OF_ARCHIVE);
  });
}

/**
 * The content of each directory in `image` (null when the image has no such directory), read from a
 * container that is created, read and removed (labelled so that a crash leaves it to the reaper).
 */
export async function snapshotImage(
  docker: Docker,
  image: string,
  paths: string[],
  labels: Record<string, string>,
  timeoutMs: number,
): Promise<Map<string, DirSnapshot | null>> {
  const container = await bounded('create image snapshot container', timeoutMs, (signal) =>
    docker.createContainer({ Image: image, Labels: labels, NetworkDisabled: true, abortSignal: signal }),
  );
  try {
    const out = new Map<string, DirSnapshot | null>();
    for (const path of paths) {
      try {
        const stream = await bounded(`read ${path} of ${image}`, timeoutMs, (signal) =>
          container.getArchive({ path, abortSignal: signal } as { path: string }),
        );
        out.set(path, await relativeArchive(path, stream));
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) out.set(path, null);
        else throw err;
      }
    }
    return out;
  } finally {
    await container.remove({ force: true, v: true }).catch(() => {});
  }
}

/** Docker mount of a size-limited tmpfs volume (removed with its container). */
export function tmpfsVolume(dir: WritableDir, snapshot: DirSnapshot | null | undefined, labels: Record<string, string>) {
  const mode = (snapshot?.mode ?? 0o755) & 0o7777;
  const o = [
    `size=${dir.sizeMb}m`,
    `mode=${mode.toString(8)}`,
    `uid=${snapshot?.uid ?? 0}`,
    `gid=${snapshot?.gid ?? 0}`,
    'nosuid',
    'nodev',
  ];
  return {
    Type: 'volume' as const,
    Target: dir.path,
    VolumeOptions: {
      NoCopy: true,
      Labels: labels,
      DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: o.join(',') } },
    },
  };
}
