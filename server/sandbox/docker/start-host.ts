// Starts a created host and runs its preparation (prepare.ts) through the host's own init: attach to the
// container first (as `docker run -i` does), start it, give lab-init the script on standard input, then
// follow its output until the script says it is done or failed, the host stops, or the time bound passes.
// Only the tail of the output is kept: the markers come last.
import { type Duplex, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { bounded, boundedOpen } from './engine.ts';
import { prepareOutcome, type PrepareOutcome, type PreparePlan } from './prepare.ts';

const KEPT_CHARS = 256 * 1024;

export type StartOutcome = PrepareOutcome & { timedOut: boolean };

export async function startAndPrepare(
  docker: Docker,
  container: Docker.Container,
  plan: PreparePlan,
  engineTimeoutMs: number,
): Promise<StartOutcome> {
  const stream = (await boundedOpen('container attach', engineTimeoutMs, (signal) =>
    container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true, abortSignal: signal } as {}),
  )) as Duplex;
  let text = '';
  const outcome = new Promise<StartOutcome>((resolve) => {
    let done = false;
    const finish = (result: PrepareOutcome, timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.destroy();
      resolve({ ...result, timedOut });
    };
    const check = (ended: boolean) => {
      const result = prepareOutcome(plan, text, ended);
      if (result) finish(result);
    };
    const sink = new Writable({
      write(chunk: Buffer, _encoding, next) {
        text = (text + chunk.toString('utf8')).slice(-KEPT_CHARS);
        check(false);
        next();
      },
    });
    docker.modem.demuxStream(stream, sink, sink);
    stream.on('end', () => check(true));
    stream.on('close', () => check(true));
    stream.on('error', () => check(true));
    const timer = setTimeout(() => finish({ ok: false, step: 'unknown', exitCode: 124, output: text.trim() }, true), plan.timeoutMs);
  });
  try {
    await bounded('container start', engineTimeoutMs, (signal) => container.start({ abortSignal: signal }));
  } catch (err) {
    stream.destroy();
    throw err;
  }
  // Ending this side closes the init's standard input (StdinOnce): the script is complete.
  stream.end(plan.script);
  return outcome;
}
