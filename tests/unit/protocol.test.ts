import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  encode,
  MAX_FRAME_BYTES,
  parseClientMessage,
  parseServerMessage,
  ProtocolError,
  PROTOCOL_VERSION,
  type ClientMessage,
} from '../../protocol/terminal.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected a ProtocolError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected an error');
};

describe('terminal protocol', () => {
  test('every valid client message survives encode → parse', () => {
    const messages: ClientMessage[] = [
      { t: 'hello', v: PROTOCOL_VERSION, lab: 'nginx-remote', host: 'web', cols: 80, rows: 24 },
      { t: 'resize', cols: 120, rows: 40 },
      { t: 'ack', bytes: 32768 },
      { t: 'pause' },
      { t: 'resume' },
      { t: 'ping', id: 7 },
    ];
    for (const m of messages) assert.deepEqual(parseClientMessage(encode(m)), m);
  });

  test('malformed messages give a clear error code and message', () => {
    assert.equal(
      codeOf(() => parseClientMessage('not json')),
      'bad-message',
    );
    assert.equal(
      codeOf(() => parseClientMessage('[1,2]')),
      'bad-message',
    );
    assert.equal(
      codeOf(() => parseClientMessage('{"t":"launch-missiles"}')),
      'bad-message',
    );
    assert.equal(
      codeOf(() => parseClientMessage('{"t":"resize","cols":0,"rows":24}')),
      'bad-message',
    );
    assert.equal(
      codeOf(() => parseClientMessage('{"t":"resize","cols":80.5,"rows":24}')),
      'bad-message',
    );
    assert.equal(
      codeOf(() => parseClientMessage('{"t":"hello","v":1,"lab":"../etc","host":"web","cols":80,"rows":24}')),
      'bad-message',
    );
    assert.equal(
      codeOf(() => parseClientMessage('{"t":"hello","v":99,"lab":"a","host":"web","cols":80,"rows":24}')),
      'version',
    );
    assert.equal(
      codeOf(() => parseClientMessage('{"t":"ack","bytes":-1}')),
      'bad-message',
    );
    try {
      parseClientMessage('{"t":"resize"}');
    } catch (e) {
      assert.match((e as Error).message, /cols.*rows/);
    }
  });

  test('oversized control frames are refused before parsing', () => {
    const big = JSON.stringify({ t: 'ping', id: 1, pad: 'x'.repeat(MAX_FRAME_BYTES) });
    assert.equal(
      codeOf(() => parseClientMessage(big)),
      'too-large',
    );
  });

  test('arbitrary input never throws anything but a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.object().map((o) => JSON.stringify(o)),
        ),
        (text) => {
          try {
            const m = parseClientMessage(text);
            assert.ok(['hello', 'resize', 'ack', 'pause', 'resume', 'ping'].includes(m.t));
          } catch (e) {
            assert.ok(e instanceof ProtocolError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  test('the browser ignores unknown or malformed server messages', () => {
    assert.equal(parseServerMessage('nope'), null);
    assert.equal(parseServerMessage('{"t":"exploit"}'), null);
    assert.deepEqual(parseServerMessage('{"t":"pong","id":3}'), { t: 'pong', id: 3 });
  });
});
