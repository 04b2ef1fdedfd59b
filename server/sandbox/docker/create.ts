// Creating a Docker lab: an internal bridge network, one hardened container per host, all created
// before any starts, then each started and prepared by its own init. All or nothing: on any failure,
// whatever was created is removed and the error says what failed (docs/providers.md).
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import type { LabHost } from '../../../sandbox/labs/schema.ts';
import type { EngineSettings } from '../../config.ts';
import { assertLabId, EngineError, LabCreateError, type LabInfo, type LabSpec } from '../provider.ts';
import { readSeededFiles, tarOf } from './archive.ts';
import { bounded, engineMessage, isNotFound } from './engine.ts';
import { cpuCap, hostContainerSpec, isStorageQuotaUnsupported } from './host-spec.ts';
import type { LabInventory } from './inventory.ts';
import { bridgeName, containerName, LABEL, labLabels, networkName, type Naming } from './labels.ts';
import { prepareScript, type PreparePlan } from './prepare.ts';
import { writableDirs, type WritableDir } from './rootfs.ts';
import { startAndPrepare } from './start-host.ts';
import { pickSubnet } from './subnets.ts';

export const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;
export const DEFAULT_FILES_ROOT = fileURLToPath(new URL('../../../sandbox/labs/files/', import.meta.url));

export interface LabCreationOptions {
  docker: Docker;
  config: EngineSettings;
  naming: Naming;
  inventory: LabInventory;
  /** logical image name of a host → image tag */
  images: (logical: string) => string;
  /** where seeded files are read */
  filesRoot: string;
  /** told once per distinct problem (the provider's health repeats them) */
  warn: (message: string) => void;
  log: (message: string) => void;
}

interface HostPlan {
  host: LabHost;
  image: string;
  name: string;
  /** read-only root filesystem: the writable directories */
  writable: WritableDir[] | undefined;
  prepare: PreparePlan;
}

/**
 * Like Promise.all, but waits for every call to settle before failing: nothing runs on after a failure.
 * The error is the first to happen, not the first in order: a host whose boot failed is the cause, the
 * others then only time out waiting for its name.
 */
async function settled<T>(calls: Promise<T>[]): Promise<T[]> {
  let first: { reason: unknown } | undefined;
  const results = await Promise.allSettled(
    calls.map((call) =>
      call.catch((reason: unknown) => {
        first ??= { reason };
        throw reason;
      }),
    ),
  );
  if (first) throw first.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export class LabCreation {
  readonly #o: LabCreationOptions;
  /** writable root filesystem mode: whether the storage driver takes a per-container quota (unknown until tried) */
  #storageQuota: boolean | undefined;

  constructor(options: LabCreationOptions) {
    this.#o = options;
  }

  /** true once a creation had its writable layer bounded; false when the driver cannot; undefined before */
  get storageQuota(): boolean | undefined {
    return this.#storageQuota;
  }

  get #t() {
    return this.#o.config.timeouts;
  }

  /** `createdAt` is now for a new lab, the lab's own for a reset. */
  async create(spec: LabSpec, createdAt: Date): Promise<LabInfo> {
    assertLabId(spec.labId);
    const labId = spec.labId;
    if (spec.pooled && spec.owner !== '') throw new RangeError('a pool lab has no owner until it is claimed');
    const labels = labLabels(this.#o.naming, {
      labId,
      owner: spec.owner,
      definitionId: spec.definition.id,
      createdAt,
      expiresAt: spec.expiresAt,
      pooled: spec.pooled,
    });
    const state = { aborted: false };
    const work = this.#build(spec, labels, state);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError(`lab creation took longer than ${this.#t.createMs} ms`)), this.#t.createMs);
    });
    try {
      await Promise.race([work, deadline]);
      const info = await this.#o.inventory.get(labId);
      if (info?.state !== 'ready') throw new EngineError(`lab ${labId} is ${info?.state ?? 'gone'} right after creation`);
      return info;
    } catch (err) {
      state.aborted = true;
      // Every step is bounded, so the work settles; then nothing of it is left behind.
      await work.catch(() => {});
      await this.#o.inventory.destroy(labId).catch((e) => this.#o.log(`cleanup of ${labId} failed: ${engineMessage(e)}`));
      if (err instanceof LabCreateError) throw err;
      throw new LabCreateError(`lab ${spec.definition.id} could not be created: ${engineMessage(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async #build(spec: LabSpec, labels: Record<string, string>, state: { aborted: boolean }): Promise<void> {
    const step = () => {
      if (state.aborted) throw new EngineError('creation aborted');
    };
    const plans = await this.#plan(spec);
    step();
    spec.progress?.('network');
    const network = await this.#createNetwork(
      spec.labId,
      labels,
      spec.definition.hosts.map((h) => h.name),
    );
    step();
    // Every host is created before any starts (a missing image fails before anything runs); then all
    // start at once, each prepared by its own init, whose boot waits until every host's name resolves.
    spec.progress?.('containers');
    const containers = await settled(plans.map((p) => this.#createContainer(p, network, labels)));
    step();
    spec.progress?.('services');
    await settled(plans.map((p, i) => this.#startAndPrepare(containers[i]!, p, spec.definition.id)));
  }

  /** Everything that can fail without the engine is checked first (files, names, the preparation). */
  async #plan(spec: LabSpec): Promise<HostPlan[]> {
    const { host: limits } = this.#o.config;
    const readonly = limits.rootfs === 'readonly';
    return settled(
      spec.definition.hosts.map(async (host) => {
        if (!HOST_NAME.test(host.name)) throw new LabCreateError(`bad host name ${JSON.stringify(host.name)}`);
        const files = await readSeededFiles(host, this.#o.filesRoot).catch((err) => {
          throw new LabCreateError((err as Error).message, { cause: err });
        });
        const writable = readonly ? writableDirs(host, limits.writable, limits.seedDirMb) : undefined;
        const prepare = prepareScript({
          fill: (writable ?? []).map((d) => d.path),
          // Without CHOWN the copies belong to root (the host's root could not give them away either).
          keepOwners: host.capabilities.includes('CHOWN'),
          seeded: files.length > 0 ? await tarOf(files) : undefined,
          peers: spec.definition.hosts.map((h) => h.name),
          boot: host.boot,
          commandTimeoutMs: this.#t.execMs,
        });
        return { host, image: this.#o.images(host.image), name: containerName(this.#o.naming, spec.labId, host.name), writable, prepare };
      }),
    );
  }

  async #createNetwork(labId: string, labels: Record<string, string>, hosts: string[]): Promise<string> {
    const { docker, config } = this.#o;
    const name = networkName(this.#o.naming, labId);
    for (let attempt = 1; ; attempt++) {
      const used = await bounded('network list', this.#t.engineMs, (signal) => docker.listNetworks({ abortSignal: signal } as {}));
      const subnets = used.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => (c as { Subnet?: string }).Subnet ?? '')).filter(Boolean);
      const { subnet, gateway } = pickSubnet(config.network.subnetPool, config.network.subnetPrefix, subnets);
      try {
        await bounded('network create', this.#t.engineMs, (signal) =>
          docker.createNetwork({
            Name: name,
            Driver: 'bridge',
            Internal: true,
            CheckDuplicate: true,
            EnableIPv6: false,
            Labels: { ...labels, [LABEL.hosts]: hosts.join(',') },
            Options: {
              'com.docker.network.bridge.name': bridgeName(labId),
              'com.docker.network.bridge.enable_icc': 'true',
              'com.docker.network.bridge.enable_ip_masquerade': 'false',
            },
            IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
            abortSignal: signal,
          } as Docker.NetworkCreateOptions),
        );
        return name;
      } catch (err) {
        // Another lab took the same slice meanwhile: pick again.
        if (attempt < 5 && /overlap/i.test(engineMessage(err))) continue;
        throw err;
      }
    }
  }

  async #createContainer(plan: HostPlan, network: string, labels: Record<string, string>): Promise<Docker.Container> {
    const { docker, config } = this.#o;
    const create = (storageQuota: boolean) =>
      bounded(`create container ${plan.name}`, this.#t.engineMs, (signal) =>
        docker.createContainer({
          ...hostContainerSpec({
            host: plan.host,
            image: plan.image,
            name: plan.name,
            network,
            labels,
            limits: config.host,
            writable: plan.writable,
            storageQuota,
          }),
          abortSignal: signal,
        }),
      );
    const tryQuota = config.host.rootfs === 'writable' && this.#storageQuota !== false;
    try {
      const c = await create(tryQuota);
      if (tryQuota) this.#storageQuota = true;
      return c;
    } catch (err) {
      if (isNotFound(err)) throw new LabCreateError(`image ${plan.image} not found (build it: npm run image)`, { cause: err });
      if (tryQuota && isStorageQuotaUnsupported(err)) {
        this.#storageQuota = false;
        this.#o.warn(
          `the storage driver has no per-container quota (${engineMessage(err)}): the writable layer of labs is unbounded; use ATELIER_LAB_ROOTFS=readonly`,
        );
        return create(false);
      }
      throw err;
    }
  }

  /** Starts a host and waits for its init to prepare it; a failure names the step and shows its output. */
  async #startAndPrepare(container: Docker.Container, plan: HostPlan, definitionId: string): Promise<void> {
    const outcome = await startAndPrepare(this.#o.docker, container, plan.prepare, this.#t.engineMs);
    if (outcome.ok) {
      const cap = cpuCap(this.#o.config.host);
      if (cap) await bounded('container update (CPU cap)', this.#t.engineMs, (signal) => container.update({ ...cap, abortSignal: signal }));
      return;
    }
    const output = outcome.output.split('\n').slice(-15).join('\n');
    const timedOut = outcome.exitCode === 124 || outcome.exitCode === 137 || outcome.timedOut;
    if (typeof outcome.step === 'number') {
      throw new LabCreateError(
        `lab ${definitionId}: boot command of host ${plan.host.name} failed (exit ${outcome.exitCode}${timedOut ? ', timed out' : ''}): ${plan.host.boot[outcome.step]}\n${output}`,
      );
    }
    const what = {
      files: 'copying files',
      network: 'the other hosts never appeared on the network',
      unknown: timedOut ? 'no answer' : 'the host stopped',
    }[outcome.step];
    throw new LabCreateError(
      `lab ${definitionId}: preparing host ${plan.host.name} failed (${what}${outcome.exitCode >= 0 ? `, exit ${outcome.exitCode}` : ''}${timedOut ? ', timed out' : ''})\n${output}`,
    );
  }
}
