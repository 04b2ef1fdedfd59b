// The framing of the Kubernetes exec and attach WebSocket (subprotocols v4.channel.k8s.io and
// v5.channel.k8s.io): each binary message is one byte naming a channel, then its data. 0 stdin,
// 1 stdout, 2 stderr, 3 error (a JSON metav1.Status once the command ends), 4 resize (JSON
// {"Width","Height"}). v5 adds 255: close a channel ([255, n]), so stdin can end while output still
// comes; with v4 the only way to end stdin is to close the socket. Pure: no socket here.

export const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export type Frame =
  | { channel: 'stdout' | 'stderr'; data: Buffer }
  | { channel: 'error'; status: ExitStatus }
  | { channel: 'close'; closed: number }
  | { channel: 'unknown'; number: number; data: Buffer };

/** How the command ended, from the error channel. */
export interface ExitStatus {
  /** null: the API did not say (a failure that is not the command's own exit code) */
  exitCode: number | null;
  message: string;
}

export const stdinFrame = (data: string | Uint8Array): Buffer =>
  Buffer.concat([Buffer.of(CHANNEL.stdin), typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);

export function resizeFrame(cols: number, rows: number): Buffer {
  if (!(Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols <= 1000 && rows <= 1000)) {
    throw new RangeError(`bad terminal size ${cols}x${rows}`);
  }
  return Buffer.concat([Buffer.of(CHANNEL.resize), Buffer.from(JSON.stringify({ Width: cols, Height: rows }))]);
}

/** v5 only: no more standard input (the command reads end of file). */
export function closeStdinFrame(protocol: string): Buffer | undefined {
  return protocol === 'v5.channel.k8s.io' ? Buffer.of(CHANNEL.close, CHANNEL.stdin) : undefined;
}

/**
 * metav1.Status from the error channel: Success is exit 0; Failure with reason NonZeroExitCode names the
 * code in details.causes[{reason: "ExitCode", message: "<n>"}]; any other failure has no exit code.
 * (k8s.io/apimachinery/pkg/util/remotecommand: NonZeroExitCodeReason, ExitCodeCauseType.)
 */
export function parseStatus(text: string): ExitStatus {
  let status: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    status = JSON.parse(text);
  } catch {
    return { exitCode: null, message: text.slice(0, 500) };
  }
  if (status?.status === 'Success') return { exitCode: 0, message: '' };
  const message = String(status?.message ?? 'exec failed');
  if (status?.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code) && code >= 0 && code <= 255) return { exitCode: code, message };
  }
  return { exitCode: null, message };
}

/** One message from the socket. Text messages (older servers send base64 on base64.channel.k8s.io) are not spoken here. */
export function decodeFrame(message: Buffer): Frame | undefined {
  if (message.length === 0) return undefined;
  const number = message[0]!;
  const data = message.subarray(1);
  switch (number) {
    case CHANNEL.stdout:
      return { channel: 'stdout', data };
    case CHANNEL.stderr:
      return { channel: 'stderr', data };
    case CHANNEL.error:
      return { channel: 'error', status: parseStatus(data.toString('utf8')) };
    case CHANNEL.close:
      return data.length === 1 ? { channel: 'close', closed: data[0]! } : { channel: 'unknown', number, data };
    default:
      return { channel: 'unknown', number, data };
  }
}

/** The query of a pods/exec call: each argument of the command is its own `command=` parameter. */
export function execQuery(command: string[], options: { container: string; stdin: boolean; tty: boolean }): string {
  const q = new URLSearchParams();
  for (const arg of command) q.append('command', arg);
  q.set('container', options.container);
  q.set('stdin', String(options.stdin));
  q.set('stdout', 'true');
  // With a TTY, standard error is merged into the terminal's output.
  q.set('stderr', String(!options.tty));
  q.set('tty', String(options.tty));
  return q.toString();
}
