// One Dockerode client per provider, over keep-alive connections, and the rules every engine call
// follows: bounded in time, and "already gone" is not an error when removing.
import http from 'node:http';
import https from 'node:https';
import Docker from 'dockerode';
import { EngineError } from '../provider.ts';

/** DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) are read by docker-modem itself. */
export function connectEngine(): Docker {
  const docker = new Docker();
  const modem = docker.modem as unknown as { protocol?: string; agent?: http.Agent };
  // ssh:// brings its own agent; unix sockets and tcp get a pool of keep-alive connections.
  if (modem.protocol !== 'ssh') {
    const Agent = modem.protocol === 'https' ? https.Agent : http.Agent;
    modem.agent = new Agent({ keepAlive: true, maxSockets: 32 });
  }
  return docker;
}

export function closeEngine(docker: Docker): void {
  (docker.modem as unknown as { agent?: http.Agent }).agent?.destroy();
}

/** Rejects when `signal` aborts: some dockerode calls ignore their AbortSignal, so the bound holds anyway. */
function abandoned(signal: AbortSignal, what: string, ms: number): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new EngineError(`${what}: no answer from the engine within ${ms} ms`));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** Runs an engine call with an AbortSignal that fires after `ms`; a timeout becomes an EngineError. */
export async function bounded<T>(what: string, ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  try {
    return await Promise.race([call(signal), abandoned(signal, what, ms)]);
  } catch (err) {
    if (signal.aborted && !(err instanceof EngineError))
      throw new EngineError(`${what}: no answer from the engine within ${ms} ms`, { cause: err });
    throw err;
  }
}

/**
 * For calls that return a long-lived stream (attach, exec start): only establishing the stream is
 * bounded; once it is there, the signal never fires (it would cut the stream).
 */
export async function boundedOpen<T>(what: string, ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), ms);
  try {
    return await Promise.race([call(controller.signal), abandoned(controller.signal, what, ms)]);
  } catch (err) {
    if (controller.signal.aborted && !(err instanceof EngineError))
      throw new EngineError(`${what}: no answer from the engine within ${ms} ms`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function statusCode(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** 404: no such object. Removal treats it as success. */
export function isNotFound(err: unknown): boolean {
  return statusCode(err) === 404;
}

/** 409 on removal: already being removed by someone else. */
export function isConflict(err: unknown): boolean {
  return statusCode(err) === 409;
}

export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string } | null;
  return e?.json?.message ?? e?.message ?? String(err);
}
