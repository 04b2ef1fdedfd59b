// The Docker provider: a lab is one internal bridge network plus one hardened container per host.
// Works with the Docker Engine API and Podman's Docker-compatible socket (docs/providers.md).
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import type { Lab, LabHost } from '../../../sandbox/labs/schema.ts';
import { labImageTag } from '../../../sandbox/image/tag.ts';
import type { Config } from '../../config.ts';
import {
  assertLabId,
  EngineError,
  HostNotFoundError,
  LabClaimedError,
  LabCreateError,
  LabNotFoundError,
  type CreationPhase,
  type ExecOptions,
  type ExecResult,
  type LabFilter,
  type LabInfo,
  type LabSpec,
  type PacketCapture,
  type ProviderHealth,
  type SandboxProvider,
  type TerminalOptions,
  type TerminalSession,
} from '../provider.ts';
import { readSeededFiles, tarOf } from './archive.ts';
import { CAPTURE_LABEL, startCapture } from './capture.ts';
import { bounded, closeEngine, connectEngine, engineMessage, isConflict, isNotFound, statusCode } from './engine.ts';
import { hangUpStrayShells, openShell, runCommand } from './exec.ts';
import { ensureHostFirewall, firewallInPlace } from './firewall.ts';
import { cpuCap, hostContainerSpec, isStorageQuotaUnsupported } from './host-spec.ts';
import {
  assembleLabs,
  bridgeName,
  claimName,
  containerName,
  LABEL,
  labelFilter,
  labLabels,
  mine,
  naming,
  networkName,
  type Naming,
} from './labels.ts';
import { writableDirs, type WritableDir } from './rootfs.ts';
import { prepareScript, type PreparePlan } from './prepare.ts';
import { startAndPrepare } from './start-host.ts';
import { pickSubnet } from './subnets.ts';

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** how long a host's address is used without asking the engine again */
const ADDRESS_TTL_MS = 5000;

/** Like Promise.all, but waits for every call to settle before failing: nothing runs on after a failure. */
async function settled<T>(calls: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(calls);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
const DEFAULT_FILES_ROOT = fileURLToPath(new URL('../../../sandbox/labs/files/', import.meta.url));

export interface DockerProviderOptions {
  config: Config;
  /** logical image name of a host → image tag (default: "atelier-lab" → the tag sandbox/image builds) */
  images?: (logical: string) => string;
  /** where seeded files are read (default sandbox/labs/files) */
  filesRoot?: string;
  docker?: Docker;
  log?: (message: string) => void;
}

interface HostPlan {
  host: LabHost;
  image: string;
  name: string;
  /** read-only root filesystem: the writable directories */
  writable: WritableDir[] | undefined;
  prepare: PreparePlan;
}

export class DockerProvider implements SandboxProvider {
  readonly name = 'docker';
  readonly #docker: Docker;
  readonly #config: Config;
  readonly #naming: Naming;
  readonly #images: (logical: string) => string;
  readonly #filesRoot: string;
  readonly #log: (message: string) => void;
  readonly #warnings = new Set<string>();
  /** ids of the terminals opened here and still running */
  readonly #terminals = new Set<string>();
  /** container name → its address on the lab network, with when it was asked (see #address) */
  readonly #addresses = new Map<string, { address: string; at: number }>();
  /** unknown until the first creation tries it (writable root filesystem mode only) */
  #storageQuota: boolean | undefined;
  #initialized: Promise<void> | undefined;
  #firewallInstalled = false;

  constructor(options: DockerProviderOptions) {
    this.#config = options.config;
    this.#docker = options.docker ?? connectEngine();
    this.#naming = naming(options.config.test, options.config.scope);
    let defaultImage: string | undefined;
    this.#images =
      options.images ?? ((logical) => (logical === 'atelier-lab' ? (defaultImage ??= options.config.image ?? labImageTag()) : logical));
    this.#filesRoot = options.filesRoot ?? DEFAULT_FILES_ROOT;
    this.#log = options.log ?? ((m) => console.error(`[docker-provider] ${m}`));
    if (this.#config.host.rootfs === 'writable') this.#storageQuota = undefined;
  }

  /** ping and version take options (an AbortSignal) that the type definitions leave out */
  get #system() {
    return this.#docker as unknown as {
      ping(o: { abortSignal: AbortSignal }): Promise<unknown>;
      version(o: { abortSignal: AbortSignal }): Promise<Docker.DockerVersion>;
    };
  }

  get #t() {
    return this.#config.timeouts;
  }

  init(): Promise<void> {
    this.#initialized ??= (async () => {
      await bounded('ping', this.#t.engineMs, (signal) => this.#system.ping({ abortSignal: signal }));
      if (this.#config.firewall === 'off') {
        this.#warn("host firewall management is off (ATELIER_FIREWALL=off): the operator must keep labs away from this machine's services");
        return;
      }
      const local = !this.#config.dockerHost || this.#config.dockerHost.startsWith('unix://');
      const status = await ensureHostFirewall(local);
      this.#firewallInstalled = status.ok;
      for (const w of status.warnings) this.#warn(w);
      if (!status.ok && this.#config.firewall === 'required') {
        throw new Error(`ATELIER_FIREWALL=required but the host firewall is not in place: ${status.warnings.join('; ')}`);
      }
    })();
    this.#initialized.catch(() => (this.#initialized = undefined));
    return this.#initialized;
  }

  #warn(message: string): void {
    if (!this.#warnings.has(message)) this.#log(`WARNING: ${message}`);
    this.#warnings.add(message);
  }

  // ---------------------------------------------------------------- create

  async createLab(spec: LabSpec): Promise<LabInfo> {
    return this.#create(spec, new Date());
  }

  async #create(spec: LabSpec, createdAt: Date): Promise<LabInfo> {
    assertLabId(spec.labId);
    const labId = spec.labId;
    if (spec.pooled && spec.owner !== '') throw new RangeError('a pool lab has no owner until it is claimed');
    const labels = labLabels(this.#naming, {
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
      const info = await this.getLab(labId);
      if (info?.state !== 'ready') throw new EngineError(`lab ${labId} is ${info?.state ?? 'gone'} right after creation`);
      return info;
    } catch (err) {
      state.aborted = true;
      // Every step is bounded, so the work settles; then nothing of it is left behind.
      await work.catch(() => {});
      await this.destroyLab(labId).catch((e) => this.#log(`cleanup of ${labId} failed: ${engineMessage(e)}`));
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
    const readonly = this.#config.host.rootfs === 'readonly';
    return settled(
      spec.definition.hosts.map(async (host) => {
        if (!HOST_NAME.test(host.name)) throw new LabCreateError(`bad host name ${JSON.stringify(host.name)}`);
        const files = await readSeededFiles(host, this.#filesRoot).catch((err) => {
          throw new LabCreateError((err as Error).message, { cause: err });
        });
        const writable = readonly ? writableDirs(host, this.#config.host.writable, this.#config.host.seedDirMb) : undefined;
        const prepare = prepareScript({
          fill: (writable ?? []).map((d) => d.path),
          // Without CHOWN the copies belong to root (the host's root could not give them away either).
          keepOwners: host.capabilities.includes('CHOWN'),
          seeded: files.length > 0 ? await tarOf(files) : undefined,
          peers: spec.definition.hosts.map((h) => h.name),
          boot: host.boot,
          commandTimeoutMs: this.#t.execMs,
        });
        return { host, image: this.#images(host.image), name: containerName(this.#naming, spec.labId, host.name), writable, prepare };
      }),
    );
  }

  async #createNetwork(labId: string, labels: Record<string, string>, hosts: string[]): Promise<string> {
    const name = networkName(this.#naming, labId);
    for (let attempt = 1; ; attempt++) {
      const used = await bounded('network list', this.#t.engineMs, (signal) => this.#docker.listNetworks({ abortSignal: signal } as {}));
      const subnets = used.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => (c as { Subnet?: string }).Subnet ?? '')).filter(Boolean);
      const { subnet, gateway } = pickSubnet(this.#config.network.subnetPool, this.#config.network.subnetPrefix, subnets);
      try {
        await bounded('network create', this.#t.engineMs, (signal) =>
          this.#docker.createNetwork({
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
    const create = (storageQuota: boolean) =>
      bounded(`create container ${plan.name}`, this.#t.engineMs, (signal) =>
        this.#docker.createContainer({
          ...hostContainerSpec({
            host: plan.host,
            image: plan.image,
            name: plan.name,
            network,
            labels,
            limits: this.#config.host,
            writable: plan.writable,
            storageQuota,
          }),
          abortSignal: signal,
        }),
      );
    const tryQuota = this.#config.host.rootfs === 'writable' && this.#storageQuota !== false;
    try {
      const c = await create(tryQuota);
      if (tryQuota) this.#storageQuota = true;
      return c;
    } catch (err) {
      if (isNotFound(err)) throw new LabCreateError(`image ${plan.image} not found (build it: npm run image)`, { cause: err });
      if (tryQuota && isStorageQuotaUnsupported(err)) {
        this.#storageQuota = false;
        this.#warn(
          `the storage driver has no per-container quota (${engineMessage(err)}): the writable layer of labs is unbounded; use ATELIER_LAB_ROOTFS=readonly`,
        );
        return create(false);
      }
      throw err;
    }
  }

  /** Starts a host and waits for its init to prepare it; a failure names the step and shows its output. */
  async #startAndPrepare(container: Docker.Container, plan: HostPlan, definitionId: string): Promise<void> {
    const outcome = await startAndPrepare(this.#docker, container, plan.prepare, this.#t.engineMs);
    if (outcome.ok) {
      const cap = cpuCap(this.#config.host);
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

  // ---------------------------------------------------------------- find

  async listLabs(filter: LabFilter = {}): Promise<LabInfo[]> {
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

  /** The lab objects (networks, containers, volumes) whose labels match. */
  async #find(labels: Record<string, string | undefined>) {
    const filters = labelFilter(this.#naming, labels);
    const [networks, containers, volumes] = await Promise.all([
      bounded('network list', this.#t.engineMs, (signal) => this.#docker.listNetworks({ filters, abortSignal: signal } as {})),
      bounded('container list', this.#t.engineMs, (signal) =>
        this.#docker.listContainers({ all: true, filters, abortSignal: signal } as Docker.ContainerListOptions),
      ),
      bounded('volume list', this.#t.engineMs, (signal) => this.#docker.listVolumes({ filters, abortSignal: signal } as {})),
    ]);
    return {
      networks: networks.filter((n) => mine(this.#naming, n.Labels)).map((n) => ({ labels: n.Labels ?? {} })),
      containers: containers.filter((c) => mine(this.#naming, c.Labels)).map((c) => ({ labels: c.Labels, state: c.State })),
      // Volumes left behind by an interrupted removal make a partial lab, so the reaper finds them too.
      others: (volumes.Volumes ?? []).filter((v) => mine(this.#naming, v.Labels ?? undefined)).map((v) => ({ labels: v.Labels ?? {} })),
    };
  }

  async claimLab(labId: string, owner: string, expiresAt: Date): Promise<LabInfo> {
    assertLabId(labId);
    if (!owner) throw new RangeError('claimLab needs an owner');
    const lab = await this.getLab(labId);
    if (!lab) throw new LabNotFoundError(labId);
    if (!lab.pooled || lab.state !== 'ready') throw new LabClaimedError(labId);
    const createdAt = new Date();
    const labels: Record<string, string> = {
      ...labLabels(this.#naming, { labId, owner, definitionId: lab.definitionId, createdAt, expiresAt }),
      [LABEL.claim]: '1',
    };
    // Creating a volume that exists returns it: the first claim's labels win, a second one sees them.
    const volume = await bounded('claim volume create', this.#t.engineMs, (signal) =>
      this.#docker.createVolume({ Name: claimName(this.#naming, labId), Labels: labels, abortSignal: signal } as {}),
    );
    const recorded =
      (await bounded('claim volume inspect', this.#t.engineMs, (signal) => volume.inspect({ abortSignal: signal } as {}))).Labels ?? {};
    if (recorded[LABEL.owner] !== owner || recorded[LABEL.created] !== labels[LABEL.created]) throw new LabClaimedError(labId);
    return { ...lab, owner, createdAt, expiresAt, pooled: false };
  }

  async getLab(labId: string): Promise<LabInfo | undefined> {
    try {
      assertLabId(labId);
    } catch {
      return undefined;
    }
    return (await this.listLabs({ labId }))[0];
  }

  /** The container of a host (not asked of the engine: a missing one fails the call that uses it). */
  #container(labId: string, host: string): string {
    assertLabId(labId);
    if (!HOST_NAME.test(host)) throw new HostNotFoundError(labId, host);
    return containerName(this.#naming, labId, host);
  }

  /** Engine "no such container" / "not running" → HostNotFoundError. */
  #hostError(labId: string, host: string) {
    return (err: unknown): never => {
      const code = statusCode(err);
      if (code === 404 || code === 409 || (code === 500 && /not running|is paused/i.test(engineMessage(err)))) {
        throw new HostNotFoundError(labId, host);
      }
      throw err;
    };
  }

  // ---------------------------------------------------------------- use

  async exec(labId: string, host: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return runCommand(this.#docker, this.#container(labId, host), command, {
      timeoutMs: options.timeoutMs ?? this.#t.execMs,
      engineTimeoutMs: this.#t.engineMs,
      env: options.env,
      workdir: options.workdir,
    }).catch(this.#hostError(labId, host));
  }

  async openTerminal(labId: string, host: string, options: TerminalOptions): Promise<TerminalSession> {
    const session = await openShell(this.#docker, this.#container(labId, host), {
      backendId: this.#config.backendId,
      labId,
      host,
      workdir: options.workdir,
      cols: options.cols,
      rows: options.rows,
      env: options.env ?? {},
      engineTimeoutMs: this.#t.engineMs,
    }).catch(this.#hostError(labId, host));
    this.#terminals.add(session.id);
    void session.exited.finally(() => this.#terminals.delete(session.id));
    return session;
  }

  /**
   * Hangs up the terminal shells in this provider's running lab hosts that it did not open: a backend
   * that died (SIGKILL, crash) leaves its shells idle in the containers, unreachable. Meant for the
   * start of a backend. Returns how many shells were hung up.
   */
  async hangUpStrayTerminals(): Promise<number> {
    const filters = labelFilter(this.#naming);
    const running = await bounded('container list', this.#t.engineMs, (signal) =>
      this.#docker.listContainers({ filters, abortSignal: signal } as Docker.ContainerListOptions),
    );
    const queue = running.filter((c) => mine(this.#naming, c.Labels) && !c.Labels[CAPTURE_LABEL]);
    let total = 0;
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        total += await hangUpStrayShells(this.#docker, c.Id, this.#config.backendId, [...this.#terminals], this.#t.engineMs).catch(() => 0);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return total;
  }

  /**
   * A TCP connection from the backend to the host's address on the lab's internal network (the host
   * firewall lets the backend in, never a lab out). The address is kept a few seconds, so a page and its
   * many requests cost one container inspect; a failed connection asks again next time.
   */
  async connect(labId: string, host: string, port: number): Promise<Duplex> {
    const container = this.#container(labId, host);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad port ${port}`);
    const address = await this.#address(labId, host, container);
    return new Promise<Duplex>((resolve, reject) => {
      const socket = net.connect({ host: address, port, timeout: this.#t.engineMs });
      const failed = (err: Error) => {
        this.#addresses.delete(container);
        socket.destroy();
        reject(err);
      };
      socket.once('timeout', () => failed(new EngineError(`no connection to ${host}:${port} within ${this.#t.engineMs} ms`)));
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.removeAllListeners('timeout').removeAllListeners('error').setTimeout(0);
        resolve(socket);
      });
    });
  }

  async #address(labId: string, host: string, container: string): Promise<string> {
    const cached = this.#addresses.get(container);
    if (cached && Date.now() - cached.at < ADDRESS_TTL_MS) return cached.address;
    const info = await bounded('container inspect', this.#t.engineMs, (signal) =>
      this.#docker.getContainer(container).inspect({ abortSignal: signal }),
    ).catch(this.#hostError(labId, host));
    const address = info.NetworkSettings.Networks[networkName(this.#naming, labId)]?.IPAddress;
    if (!info.State.Running || !address) throw new HostNotFoundError(labId, host);
    if (this.#addresses.size >= 10_000) this.#addresses.clear();
    this.#addresses.set(container, { address, at: Date.now() });
    return address;
  }

  async captureTcp(labId: string, host: string, port: number): Promise<PacketCapture> {
    return startCapture({
      docker: this.#docker,
      engineMs: this.#t.engineMs,
      hostContainer: this.#container(labId, host),
      host,
      labId,
      port,
    });
  }

  // ---------------------------------------------------------------- reset, destroy

  async resetLab(labId: string, definition: Lab, progress?: (phase: CreationPhase) => void): Promise<LabInfo> {
    const lab = await this.getLab(labId);
    if (!lab) throw new LabNotFoundError(labId);
    await this.destroyLab(labId);
    return this.#create({ labId, owner: lab.owner, definition, expiresAt: lab.expiresAt, progress }, lab.createdAt);
  }

  async destroyLab(labId: string): Promise<void> {
    try {
      assertLabId(labId);
    } catch {
      return;
    }
    for (const name of this.#addresses.keys()) if (name.startsWith(containerName(this.#naming, labId, ''))) this.#addresses.delete(name);
    const filters = labelFilter(this.#naming, { [LABEL.labId]: labId });
    const ignoreGone = (err: unknown) => {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    };
    const containers = await bounded('container list', this.#t.engineMs, (signal) =>
      this.#docker.listContainers({ all: true, filters, abortSignal: signal } as Docker.ContainerListOptions),
    );
    await Promise.all(
      containers
        .filter((c) => mine(this.#naming, c.Labels))
        .map((c) =>
          bounded('container remove', this.#t.engineMs, (signal) =>
            this.#docker.getContainer(c.Id).remove({ force: true, v: true, abortSignal: signal } as {}),
          ).catch(ignoreGone),
        ),
    );
    const networks = await bounded('network list', this.#t.engineMs, (signal) =>
      this.#docker.listNetworks({ filters, abortSignal: signal } as {}),
    );
    await Promise.all(
      networks
        .filter((n) => mine(this.#naming, n.Labels))
        .map((n) =>
          bounded('network remove', this.#t.engineMs, (signal) =>
            this.#docker.getNetwork(n.Id).remove({ abortSignal: signal } as {}),
          ).catch(ignoreGone),
        ),
    );
    // Anonymous volumes go with their container (v: true); this catches any left by an interrupted removal.
    const volumes = await bounded('volume list', this.#t.engineMs, (signal) =>
      this.#docker.listVolumes({ filters, abortSignal: signal } as {}),
    );
    await Promise.all(
      (volumes.Volumes ?? [])
        .filter((v) => mine(this.#naming, v.Labels ?? undefined))
        .map((v) =>
          bounded('volume remove', this.#t.engineMs, (signal) =>
            this.#docker.getVolume(v.Name).remove({ abortSignal: signal } as {}),
          ).catch(ignoreGone),
        ),
    );
  }

  // ---------------------------------------------------------------- health

  async healthy(): Promise<ProviderHealth> {
    const warnings = [...this.#warnings];
    if (this.#config.host.rootfs === 'writable' && this.#storageQuota !== true) {
      warnings.push('writable layer of labs is not bounded (no storage quota on this driver yet seen working)');
    }
    // Rules installed at start can be flushed later (firewall reload, another tool): look again.
    if (this.#firewallInstalled && !(await firewallInPlace())) {
      warnings.push('the host firewall rules for lab bridges (atl+) are gone: labs can reach services on this machine');
    }
    try {
      const version = await bounded('version', this.#t.engineMs, (signal) => this.#system.version({ abortSignal: signal }));
      return { ok: true, engine: `${version.Components?.[0]?.Name ?? 'Engine'} ${version.Version} (API ${version.ApiVersion})`, warnings };
    } catch (err) {
      return { ok: false, engine: `unreachable: ${engineMessage(err)}`, warnings };
    }
  }

  async close(): Promise<void> {
    closeEngine(this.#docker);
  }
}
