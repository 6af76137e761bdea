import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it, mock } from 'node:test';
import { endThenDestroy } from '../../../../../src/adapters/platform/net/close-after-flush.js';
import { duplexPair } from '../../../../support/duplex-pair.js';

const readAll = async (s: NodeJS.ReadableStream): Promise<string> => {
  let text = '';
  for await (const chunk of s) text += String(chunk);
  return text;
};

describe('endThenDestroy', () => {
  it('sends the last bytes and ends, then destroys the socket when the client closes its side', async () => {
    const [server, client] = duplexPair();
    endThenDestroy(server, 'HTTP/1.1 400 Bad Request\r\n\r\n');
    assert.equal(await readAll(client), 'HTTP/1.1 400 Bad Request\r\n\r\n');
    assert.equal(server.destroyed, false, 'waits for the client');
    client.end();
    await once(server, 'close');
    assert.equal(server.destroyed, true);
  });

  it('destroys a socket whose client never closes once the linger has passed', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const [server, client] = duplexPair();
      client.resume();
      endThenDestroy(server, 'bye', 500);
      mock.timers.tick(499);
      assert.equal(server.destroyed, false);
      mock.timers.tick(1);
      assert.equal(server.destroyed, true);
    } finally {
      mock.timers.reset();
    }
  });

  it('discards what the client still sends, and does nothing to a socket already closed or closing', async () => {
    const [server, client] = duplexPair();
    endThenDestroy(server, 'first');
    endThenDestroy(server, 'second'); // a second error on the same connection
    client.write('late bytes the server never reads');
    assert.equal(await readAll(client), 'first');
    server.destroy();
    assert.doesNotThrow(() => endThenDestroy(server, 'third'));
  });
});
