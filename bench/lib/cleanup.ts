// Removes what benchmarks create, and nothing else: engine objects with the test label whose scope
// starts with "atlbench-" (the servers started here), and the CLI baseline's containers and networks
// (names atelier-test-cli-*). Other test runs on the same engine have other scopes.
import type Docker from 'dockerode';
import { closeEngine, connectEngine } from '../../server/sandbox/docker/engine.ts';
import { BENCH_SCOPE_PREFIX } from './server.ts';

const ours = (labels: Record<string, string> | null | undefined, name: string) =>
  (labels?.['atelier.test'] === '1' && (labels['atelier.scope'] ?? '').startsWith(BENCH_SCOPE_PREFIX)) ||
  /^\/?atelier-test-cli-\d+-/.test(name);
const gone = (err: unknown) => [404, 409].includes((err as { statusCode?: number }).statusCode ?? 0);

export async function cleanupBenchObjects(): Promise<{ containers: number; networks: number; volumes: number }> {
  const docker = connectEngine();
  const signal = () => AbortSignal.timeout(60_000);
  try {
    const containers = (
      await docker.listContainers({
        all: true,
        filters: { label: ['atelier.test=1'] },
        abortSignal: signal(),
      } as Docker.ContainerListOptions)
    ).concat(
      await docker.listContainers({
        all: true,
        filters: { name: ['atelier-test-cli-'] },
        abortSignal: signal(),
      } as Docker.ContainerListOptions),
    );
    const doomed = [...new Map(containers.filter((c) => ours(c.Labels, c.Names[0] ?? '')).map((c) => [c.Id, c])).keys()];
    for (let i = 0; i < doomed.length; i += 16) {
      await Promise.all(
        doomed.slice(i, i + 16).map((id) =>
          docker
            .getContainer(id)
            .remove({ force: true, v: true, abortSignal: signal() } as {})
            .catch((e) => {
              if (!gone(e)) throw e;
            }),
        ),
      );
    }
    const networks = (await docker.listNetworks({ filters: { label: ['atelier.test=1'] }, abortSignal: signal() } as {})).filter((n) =>
      ours(n.Labels, n.Name),
    );
    for (const n of networks)
      await docker
        .getNetwork(n.Id)
        .remove({ abortSignal: signal() } as {})
        .catch((e) => (gone(e) ? undefined : Promise.reject(e)));
    const { Volumes } = await docker.listVolumes({ filters: { label: ['atelier.test=1'] }, abortSignal: signal() } as {});
    const volumes = (Volumes ?? []).filter((v) => ours(v.Labels, v.Name));
    for (const v of volumes)
      await docker
        .getVolume(v.Name)
        .remove({ abortSignal: signal() } as {})
        .catch((e) => (gone(e) ? undefined : Promise.reject(e)));
    return { containers: doomed.length, networks: networks.length, volumes: volumes.length };
  } finally {
    closeEngine(docker);
  }
}
