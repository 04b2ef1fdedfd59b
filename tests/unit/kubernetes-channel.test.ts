// The exec channel framing (server/sandbox/kubernetes/channel.ts) on frames written from the protocol
// (k8s.io/apimachinery/pkg/util/remotecommand and the API server's wsstream: one channel byte, then the
// data; the error channel carries a metav1.Status; resize is {"Width","Height"} on channel 4; v5 adds
// [255, channel] to close one direction). The frames are as a server sends them, in hex.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  closeStdinFrame,
  decodeFrame,
  execQuery,
  PROTOCOLS,
  parseStatus,
  resizeFrame,
  stdinFrame,
} from '../../server/sandbox/kubernetes/channel.ts';
import { wrapCommand } from '../../server/sandbox/kubernetes/exec.ts';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** A session recorded as the API server frames it: `echo hi; echo oops >&2; exit 3`. */
const RECORDED = [
  hex('01 68 69 0a'), // stdout "hi\n"
  hex('02 6f 6f 70 73 0a'), // stderr "oops\n"
  Buffer.concat([
    Buffer.of(3),
    Buffer.from(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c echo hi; echo oops >&2; exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    ),
  ]),
];

test('a recorded session decodes to its output and exit code', () => {
  const frames = RECORDED.map(decodeFrame);
  assert.deepEqual(frames[0], { channel: 'stdout', data: Buffer.from('hi\n') });
  assert.deepEqual(frames[1], { channel: 'stderr', data: Buffer.from('oops\n') });
  assert.equal(frames[2]?.channel, 'error');
  assert.equal(frames[2]?.channel === 'error' && frames[2].status.exitCode, 3);
});

test('the error channel: success is 0, another failure has no exit code, garbage is not a crash', () => {
  assert.deepEqual(parseStatus('{"metadata":{},"status":"Success"}'), { exitCode: 0, message: '' });
  assert.deepEqual(parseStatus('{"status":"Failure","message":"container not found (\\"host\\")","reason":"InternalError"}'), {
    exitCode: null,
    message: 'container not found ("host")',
  });
  assert.equal(
    parseStatus('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"999"}]}}').exitCode,
    null,
  );
  assert.equal(parseStatus('not json').exitCode, null);
  assert.equal(parseStatus('null').exitCode, null);
});

test('frames sent: stdin on 0, resize on 4 as the API server reads it, v5 close of stdin', () => {
  assert.deepEqual(stdinFrame('ls\r'), hex('00 6c 73 0d'));
  assert.deepEqual(stdinFrame(Uint8Array.of(3)), hex('00 03'));
  assert.deepEqual(resizeFrame(120, 40), Buffer.concat([Buffer.of(4), Buffer.from('{"Width":120,"Height":40}')]));
  assert.throws(() => resizeFrame(0, 40), RangeError);
  assert.throws(() => resizeFrame(80.5, 40), RangeError);
  assert.throws(() => resizeFrame(80, 5000), RangeError);
  assert.deepEqual(closeStdinFrame('v5.channel.k8s.io'), hex('ff 00'));
  assert.equal(closeStdinFrame('v4.channel.k8s.io'), undefined);
  assert.deepEqual(PROTOCOLS, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
});

test('frames received: v5 close, unknown channels and empty messages are told apart', () => {
  assert.deepEqual(decodeFrame(hex('ff 01')), { channel: 'close', closed: 1 });
  assert.equal(decodeFrame(hex('ff'))?.channel, 'unknown');
  assert.equal(decodeFrame(hex('07 41'))?.channel, 'unknown');
  assert.equal(decodeFrame(Buffer.alloc(0)), undefined);
  // An empty stdout frame (servers send one to open the stream) is data of length 0, not an end.
  assert.deepEqual(decodeFrame(hex('01')), { channel: 'stdout', data: Buffer.alloc(0) });
});

test('the exec query repeats command= per argument; with a TTY stderr is merged', () => {
  const q = new URLSearchParams(execQuery(['bash', '-c', 'echo a&b'], { container: 'host', stdin: true, tty: true }));
  assert.deepEqual(q.getAll('command'), ['bash', '-c', 'echo a&b']);
  assert.equal(q.get('container'), 'host');
  assert.equal(q.get('stdin'), 'true');
  assert.equal(q.get('stderr'), 'false');
  assert.equal(q.get('tty'), 'true');
  assert.equal(new URLSearchParams(execQuery(['true'], { container: 'host', stdin: false, tty: false })).get('stderr'), 'true');
});

test('environment and working directory go through env(1) and cd, as arguments (never shell text)', () => {
  assert.deepEqual(wrapCommand(['bash', '-l'], { TERM: 'xterm', A: "x'; rm -rf /" }, '/var/www'), [
    'env',
    'TERM=xterm',
    "A=x'; rm -rf /",
    'bash',
    '-c',
    'cd -- "$0" && exec "$@"',
    '/var/www',
    'bash',
    '-l',
  ]);
  assert.deepEqual(wrapCommand(['true'], {}, undefined), ['env', 'true']);
});
