// The machine a benchmark ran on, written into every result: numbers only mean something next to it.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { closeEngine, connectEngine } from '../../server/sandbox/docker/engine.ts';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  os: string;
  loadAverage: number[];
  node: string;
  docker:
    | { version: string; apiVersion: string; storageDriver: string; cgroupVersion: string; containersRunning: number }
    | { error: string };
}

export async function machine(): Promise<Machine> {
  const docker = connectEngine();
  let engine: Machine['docker'];
  try {
    const [version, info] = await Promise.all([docker.version(), docker.info() as Promise<Record<string, unknown>>]);
    engine = {
      version: version.Version,
      apiVersion: version.ApiVersion,
      storageDriver: String(info.Driver ?? ''),
      cgroupVersion: String(info.CgroupVersion ?? ''),
      containersRunning: Number(info.ContainersRunning ?? 0),
    };
  } catch (err) {
    engine = { error: (err as Error).message };
  } finally {
    closeEngine(docker);
  }
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: `${os.release()} ${os.version()}`,
    os: osRelease(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    docker: engine,
  };
}

function osRelease(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}
