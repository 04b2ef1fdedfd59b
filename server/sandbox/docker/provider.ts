// The Docker provider: a lab is one internal bridge network plus one hardened container per host.
// Works with the Docker Engine API and Podman's Docker-compatible socket (docs/providers.md). A façade:
// creation is create.ts, finding, claiming and removing labs is inventory.ts, commands and terminals are
// exec.ts; what stays here is the engine connection, the host firewall, connect and health.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { Lab } from '../../../sandbox/labs/schema.ts';
import { labImageTag } from '../../../sandbox/image/tag.ts';
import type { EngineSettings } from '../../config.ts';
import {
  assertLabId,
  EngineError,
  HostNotFoundError,
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
import { CAPTURE_LABEL, startCapture } from './capture.ts';
import { DEFAULT_FILES_ROOT, HOST_NAME, LabCreation } from './create.ts';
import { bounded, closeEngine, connectEngine, engineMessage, statusCode } from './engine.ts';
import { hangUpStrayShells, openShell, runCommand } from './exec.ts';
import { ensureHostFirewall, firewallInPlace } from './firewall.ts';
import { LabInventory } from './inventory.ts';
import { containerName, labelFilter, mine, naming, networkName, type Naming } from './labels.ts';

/** how long a host's address is used without asking the engine again */
const ADDRESS_TTL_MS = 5000;

export interface DockerProviderOptions {
  config: EngineSettings;
  /** logical image name of a host → image tag (default: "atelier-lab" → the tag sandbox/image builds) */
  images?: (logical: string) => string;
  /** where seeded files are read (default sandbox/labs/files) */
  filesRoot?: string;
  docker?: Docker;
  log?: (message: string) => void;
}

export class DockerProvider implements SandboxProvider {
  readonly name = 'docker';
  readonly #docker: Docker;
  readonly #config: EngineSettings;
  readonly #naming: Naming;
  readonly #log: (message: string) => void;
  readonly #warnings = new Set<string>();
  readonly #inventory: LabInventory;
  readonly #creation: LabCreation;
  /** ids of the terminals opened here and still running */
  readonly #terminals = new Set<string>();
  /** container name → its address on the lab network, with when it was asked (see #address) */
  readonly #addresses = new Map<string, { address: string; at: number }>();
  #initialized: Promise<void> | undefined;
  #firewallInstalled = false;

  constructor(options: DockerProviderOptions) {
    this.#config = options.config;
    this.#docker = options.docker ?? connectEngine();
    this.#naming = naming(options.config.test, options.config.scope);
    this.#log = options.log ?? ((m) => console.error(`[docker-provider] ${m}`));
    let defaultImage: string | undefined;
    this.#inventory = new LabInventory(this.#docker, this.#naming, this.#t.engineMs);
    this.#creation = new LabCreation({
      docker: this.#docker,
      config: this.#config,
      naming: this.#naming,
      inventory: this.#inventory,
      images:
        options.images ?? ((logical) => (logical === 'atelier-lab' ? (defaultImage ??= options.config.image ?? labImageTag()) : logical)),
      filesRoot: options.filesRoot ?? DEFAULT_FILES_ROOT,
      warn: (m) => this.#warn(m),
      log: this.#log,
    });
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

  // ---------------------------------------------------------------- labs (create.ts, inventory.ts)

  createLab(spec: LabSpec): Promise<LabInfo> {
    return this.#creation.create(spec, new Date());
  }

  listLabs(filter: LabFilter = {}): Promise<LabInfo[]> {
    return this.#inventory.list(filter);
  }

  getLab(labId: string): Promise<LabInfo | undefined> {
    return this.#inventory.get(labId);
  }

  claimLab(labId: string, owner: string, expiresAt: Date): Promise<LabInfo> {
    return this.#inventory.claim(labId, owner, expiresAt);
  }

  async resetLab(labId: string, definition: Lab, progress?: (phase: CreationPhase) => void): Promise<LabInfo> {
    const lab = await this.getLab(labId);
    if (!lab) throw new LabNotFoundError(labId);
    await this.destroyLab(labId);
    return this.#creation.create({ labId, owner: lab.owner, definition, expiresAt: lab.expiresAt, progress }, lab.createdAt);
  }

  async destroyLab(labId: string): Promise<void> {
    try {
      assertLabId(labId);
    } catch {
      return;
    }
    for (const name of this.#addresses.keys()) if (name.startsWith(containerName(this.#naming, labId, ''))) this.#addresses.delete(name);
    await this.#inventory.destroy(labId);
  }

  // ---------------------------------------------------------------- use

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

  // ---------------------------------------------------------------- health

  async healthy(): Promise<ProviderHealth> {
    const warnings = [...this.#warnings];
    if (this.#config.host.rootfs === 'writable' && this.#creation.storageQuota !== true) {
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
