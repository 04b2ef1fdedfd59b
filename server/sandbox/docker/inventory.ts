// A Docker provider's labs as the engine holds them: found, claimed and removed by their labels. The
// engine is the source of truth, so nothing here is cached.
import type Docker from 'dockerode';
import { assertLabId, LabClaimedError, LabNotFoundError, type LabFilter, type LabInfo } from '../provider.ts';
import { bounded, isConflict, isNotFound } from './engine.ts';
import { assembleLabs, claimName, LABEL, labelFilter, labLabels, mine, type Naming } from './labels.ts';

export class LabInventory {
  readonly #docker: Docker;
  readonly #naming: Naming;
  readonly #engineMs: number;

  constructor(docker: Docker, naming: Naming, engineMs: number) {
    this.#docker = docker;
    this.#naming = naming;
    this.#engineMs = engineMs;
  }

  async list(filter: LabFilter = {}): Promise<LabInfo[]> {
    const found = await this.#find({ [LABEL.owner]: filter.owner, [LABEL.labId]: filter.labId, [LABEL.lab]: filter.definitionId });
    // A pool lab's own objects keep an empty owner: its claim marker (found above by owner) names it,
    // so its objects come by lab id.
    const claimed = [...new Set(found.others.filter((o) => o.labels[LABEL.claim] === '1').map((o) => o.labels[LABEL.labId]!))].filter(
      (id) => !found.networks.some((n) => n.labels[LABEL.labId] === id),
    );
    for (const more of await Promise.all(claimed.map((id) => this.#find({ [LABEL.labId]: id })))) {
      found.networks.push(...more.networks);
      found.containers.push(...more.containers);
      found.others.push(...more.others.filter((o) => o.labels[LABEL.claim] !== '1'));
    }
    return assembleLabs(found.networks, found.containers, found.others);
  }

  async get(labId: string): Promise<LabInfo | undefined> {
    try {
      assertLabId(labId);
    } catch {
      return undefined;
    }
    return (await this.list({ labId }))[0];
  }

  /** The lab objects (networks, containers, volumes) whose labels match. */
  async #find(labels: Record<string, string | undefined>) {
    const filters = labelFilter(this.#naming, labels);
    const [networks, containers, volumes] = await Promise.all([
      bounded('network list', this.#engineMs, (signal) => this.#docker.listNetworks({ filters, abortSignal: signal } as {})),
      bounded('container list', this.#engineMs, (signal) =>
        this.#docker.listContainers({ all: true, filters, abortSignal: signal } as Docker.ContainerListOptions),
      ),
      bounded('volume list', this.#engineMs, (signal) => this.#docker.listVolumes({ filters, abortSignal: signal } as {})),
    ]);
    return {
      networks: networks.filter((n) => mine(this.#naming, n.Labels)).map((n) => ({ labels: n.Labels ?? {} })),
      containers: containers.filter((c) => mine(this.#naming, c.Labels)).map((c) => ({ labels: c.Labels, state: c.State })),
      // Volumes left behind by an interrupted removal make a partial lab, so the reaper finds them too.
      others: (volumes.Volumes ?? []).filter((v) => mine(this.#naming, v.Labels ?? undefined)).map((v) => ({ labels: v.Labels ?? {} })),
    };
  }

  /**
   * Gives a pool lab its learner. Container labels cannot change, so the claim is a volume whose labels
   * override the lab's; creating a volume that exists returns it: the first claim wins, a second sees it.
   */
  async claim(labId: string, owner: string, expiresAt: Date): Promise<LabInfo> {
    assertLabId(labId);
    if (!owner) throw new RangeError('claimLab needs an owner');
    const lab = await this.get(labId);
    if (!lab) throw new LabNotFoundError(labId);
    if (!lab.pooled || lab.state !== 'ready') throw new LabClaimedError(labId);
    const createdAt = new Date();
    const labels: Record<string, string> = {
      ...labLabels(this.#naming, { labId, owner, definitionId: lab.definitionId, createdAt, expiresAt }),
      [LABEL.claim]: '1',
    };
    const volume = await bounded('claim volume create', this.#engineMs, (signal) =>
      this.#docker.createVolume({ Name: claimName(this.#naming, labId), Labels: labels, abortSignal: signal } as {}),
    );
    const recorded =
      (await bounded('claim volume inspect', this.#engineMs, (signal) => volume.inspect({ abortSignal: signal } as {}))).Labels ?? {};
    if (recorded[LABEL.owner] !== owner || recorded[LABEL.created] !== labels[LABEL.created]) throw new LabClaimedError(labId);
    return { ...lab, owner, createdAt, expiresAt, pooled: false };
  }

  /** Removes containers, then the network, then volumes, all found by label; "already gone" is success. */
  async destroy(labId: string): Promise<void> {
    try {
      assertLabId(labId);
    } catch {
      return;
    }
    const filters = labelFilter(this.#naming, { [LABEL.labId]: labId });
    const ignoreGone = (err: unknown) => {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    };
    const containers = await bounded('container list', this.#engineMs, (signal) =>
      this.#docker.listContainers({ all: true, filters, abortSignal: signal } as Docker.ContainerListOptions),
    );
    await Promise.all(
      containers
        .filter((c) => mine(this.#naming, c.Labels))
        .map((c) =>
          bounded('container remove', this.#engineMs, (signal) =>
            this.#docker.getContainer(c.Id).remove({ force: true, v: true, abortSignal: signal } as {}),
          ).catch(ignoreGone),
        ),
    );
    const networks = await bounded('network list', this.#engineMs, (signal) =>
      this.#docker.listNetworks({ filters, abortSignal: signal } as {}),
    );
    await Promise.all(
      networks
        .filter((n) => mine(this.#naming, n.Labels))
        .map((n) =>
          bounded('network remove', this.#engineMs, (signal) => this.#docker.getNetwork(n.Id).remove({ abortSignal: signal } as {})).catch(
            ignoreGone,
          ),
        ),
    );
    // Anonymous volumes go with their container (v: true); this catches any left by an interrupted removal.
    const volumes = await bounded('volume list', this.#engineMs, (signal) =>
      this.#docker.listVolumes({ filters, abortSignal: signal } as {}),
    );
    await Promise.all(
      (volumes.Volumes ?? [])
        .filter((v) => mine(this.#naming, v.Labels ?? undefined))
        .map((v) =>
          bounded('volume remove', this.#engineMs, (signal) => this.#docker.getVolume(v.Name).remove({ abortSignal: signal } as {})).catch(
            ignoreGone,
          ),
        ),
    );
  }
}
