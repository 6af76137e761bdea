import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientErrorAnswer } from '../../../../src/adapters/http/client-error.js';
import { jsonErrorResponse } from '../../../../src/adapters/wire/json-error.js';

describe('clientErrorAnswer', () => {
  it('answers a header timeout with 408', () => {
    assert.equal(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT', 'Request timeout')?.status, 408);
  });
  it('answers header overflow with 431', () => {
    assert.equal(clientErrorAnswer('HPE_HEADER_OVERFLOW', 'Header overflow')?.status, 431);
  });
  it('answers other parse errors with 400 naming the parser code', () => {
    assert.deepEqual(clientErrorAnswer('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size'), {
      status: 400,
      reason: 'Bad Request',
      message: 'bad request: HPE_INVALID_CHUNK_SIZE',
    });
    assert.equal(clientErrorAnswer(undefined, 'odd')?.message, 'bad request: odd');
  });
  it('answers nothing to a peer that reset or went away', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']) assert.equal(clientErrorAnswer(code, code), undefined);
  });
});

describe('jsonErrorResponse', () => {
  it('is a complete connection: close response with a JSON body and its length', () => {
    const text = jsonErrorResponse(429, 'Too Many Requests', 'too many', { 'retry-after': '1' });
    const [head, body] = text.split('\r\n\r\n');
    assert.equal(body, '{"error":"too many"}\n');
    assert.match(head ?? '', /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assert.match(head ?? '', /\r\nretry-after: 1\r\n/);
    assert.match(head ?? '', /\r\nconnection: close$/);
    assert.match(head ?? '', new RegExp(`content-length: ${Buffer.byteLength(body ?? '')}\\r\\n`));
  });
});
