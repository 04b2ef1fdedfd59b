// Removes every container, network and volume that tests created: label atelier.test=1 or a name
// starting with atelier-test-. Run by scripts/test.sh before and after the tests, so that even a crashed
// run leaves nothing behind. Never touches anything else (production labs have neither mark).
import type Docker from 'dockerode';
import { closeEngine, connectEngine } from '../server/sandbox/docker/engine.ts';

const PREFIX = 'atelier-test-';
const LABEL = 'atelier.test=1';

const docker = connectEngine();
const isTest = (labels: Record<string, string> | null | undefined, names: string[]) =>
  labels?.['atelier.test'] === '1' || names.some((n) => n.replace(/^\//, '').startsWith(PREFIX));
const gone = (err: unknown) => [404, 409].includes((err as { statusCode?: number }).statusCode ?? 0);

async function cleanup(): Promise<string> {
  const signal = () => AbortSignal.timeout(30_000);
  const byLabel = { label: [LABEL] };
  const byName = { name: [PREFIX] };

  const containers = new Map<string, Docker.ContainerInfo>();
  for (const filters of [byLabel, byName]) {
    for (const c of await docker.listContainers({ all: true, filters, abortSignal: signal() } as Docker.ContainerListOptions)) {
      if (isTest(c.Labels, c.Names)) containers.set(c.Id, c);
    }
  }
  await Promise.all(
    [...containers.keys()].map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true, v: true, abortSignal: signal() } as {})
        .catch((e) => {
          if (!gone(e)) throw e;
        }),
    ),
  );

  const networks = new Map<string, string>();
  for (const filters of [byLabel, byName]) {
    for (const n of await docker.listNetworks({ filters, abortSignal: signal() } as {})) {
      if (isTest(n.Labels, [n.Name])) networks.set(n.Id, n.Name);
    }
  }
  await Promise.all(
    [...networks.keys()].map((id) =>
      docker
        .getNetwork(id)
        .remove({ abortSignal: signal() } as {})
        .catch((e) => {
          if (!gone(e)) throw e;
        }),
    ),
  );

  const volumes = new Set<string>();
  for (const filters of [byLabel, byName]) {
    const { Volumes } = await docker.listVolumes({ filters, abortSignal: signal() } as {});
    for (const v of Volumes ?? []) if (isTest(v.Labels, [v.Name])) volumes.add(v.Name);
  }
  await Promise.all(
    [...volumes].map((name) =>
      docker
        .getVolume(name)
        .remove({ abortSignal: signal() } as {})
        .catch((e) => {
          if (!gone(e)) throw e;
        }),
    ),
  );
  return `${containers.size} containers, ${networks.size} networks, ${volumes.size} volumes`;
}

try {
  console.log(`[clean-test-labs] removed ${await cleanup()}`);
} catch (err) {
  console.error(`[clean-test-labs] ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  closeEngine(docker);
}
