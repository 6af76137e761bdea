import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';

import {
  accessLogLevel,
  accessLogRecord,
  canonicalHeaderName,
  createHeaderFilter,
  REDACTED,
  shouldLogPath,
  type AccessLogFilters,
  type AccessLogRequest,
} from '../../../../src/adapters/http/access-log.js';
import { createWinstonLogger } from '../../../../src/adapters/platform/logging/winston-logger.adapter.js';

/** Request headers as Node parses them, with every credential a client can send. */
const REQUEST_HEADERS = {
  host: 'my-endpoint.example.com',
  'user-agent': 'curl/8.5.0',
  accept: '*/*',
  authorization: 'Bearer client-secret',
  'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
  'x-piko-authorization': 'Bearer piko-secret',
  cookie: 'session=abc123',
  'x-piko-endpoint': 'my-endpoint',
} as const;

const RESPONSE_HEADERS = {
  'content-type': 'application/json',
  'content-length': 17,
  'set-cookie': ['session=def456; HttpOnly', 'theme=dark'],
} as const;

function request(overrides: Partial<AccessLogRequest> = {}): AccessLogRequest {
  return {
    method: 'GET',
    host: 'my-endpoint.example.com',
    path: '/api/items?token=secret',
    proto: 'HTTP/1.1',
    status: 200,
    durationMs: 1.52,
    requestHeaders: REQUEST_HEADERS,
    responseHeaders: RESPONSE_HEADERS,
    ...overrides,
  };
}

function filters(level: AccessLogFilters['level'] = 'info'): AccessLogFilters {
  return { level, requestHeaders: createHeaderFilter(), responseHeaders: createHeaderFilter() };
}

describe('createHeaderFilter', () => {
  describe('having no lists (the default)', () => {
    it('redacts every credential header and keeps the rest, canonicalised', () => {
      const filter = createHeaderFilter();

      assert.deepEqual(filter(REQUEST_HEADERS), {
        Host: ['my-endpoint.example.com'],
        'User-Agent': ['curl/8.5.0'],
        Accept: ['*/*'],
        Authorization: [REDACTED],
        'Proxy-Authorization': [REDACTED],
        'X-Piko-Authorization': [REDACTED],
        Cookie: [REDACTED],
        'X-Piko-Endpoint': ['my-endpoint'],
      });
      assert.deepEqual(filter(RESPONSE_HEADERS), {
        'Content-Type': ['application/json'],
        'Content-Length': ['17'],
        'Set-Cookie': [REDACTED],
      });
    });

    it('matches credential names in any case', () => {
      const filter = createHeaderFilter();

      assert.deepEqual(filter({ AUTHORIZATION: 'x', 'X-PIKO-Authorization': 'y', 'Set-Cookie': ['z'] }), {
        Authorization: [REDACTED],
        'X-Piko-Authorization': [REDACTED],
        'Set-Cookie': [REDACTED],
      });
    });

    it('never writes a credential value anywhere in the output', () => {
      const output = JSON.stringify(createHeaderFilter()(REQUEST_HEADERS));

      for (const secret of ['client-secret', 'cHJveHk6c2VjcmV0', 'piko-secret', 'abc123']) {
        assert.equal(output.includes(secret), false, secret);
      }
    });

    it('skips undefined values and merges values of one header written in two cases', () => {
      const filter = createHeaderFilter();

      assert.deepEqual(filter({ 'x-a': undefined, 'x-b': ['1', '2'], 'X-B': '3' }), { 'X-B': ['1', '2', '3'] });
    });
  });

  describe('having a block list', () => {
    it('omits the blocked headers, case-insensitively, and still redacts credentials', () => {
      const filter = createHeaderFilter({ blockList: ['User-Agent', 'X-PIKO-ENDPOINT'] });

      assert.deepEqual(filter(REQUEST_HEADERS), {
        Host: ['my-endpoint.example.com'],
        Accept: ['*/*'],
        Authorization: [REDACTED],
        'Proxy-Authorization': [REDACTED],
        'X-Piko-Authorization': [REDACTED],
        Cookie: [REDACTED],
      });
    });

    it('omits a blocked credential header entirely', () => {
      assert.deepEqual(createHeaderFilter({ blockList: ['cookie'] })({ cookie: 'a=b', accept: '*/*' }), {
        Accept: ['*/*'],
      });
    });
  });

  describe('having an allow list', () => {
    it('logs only the allowed headers, case-insensitively', () => {
      const filter = createHeaderFilter({ allowList: ['ACCEPT', 'x-piko-endpoint'] });

      assert.deepEqual(filter(REQUEST_HEADERS), { Accept: ['*/*'], 'X-Piko-Endpoint': ['my-endpoint'] });
    });

    it('logs a credential header only when the allow list names it', () => {
      const filter = createHeaderFilter({ allowList: ['authorization'] });

      assert.deepEqual(filter(REQUEST_HEADERS), { Authorization: ['Bearer client-secret'] });
    });

    it('treats an empty allow list as no allow list', () => {
      assert.deepEqual(createHeaderFilter({ allowList: [] })({ cookie: 'a=b' }), { Cookie: [REDACTED] });
    });
  });

  it('rejects an allow list and a block list together', () => {
    assert.throws(
      () => createHeaderFilter({ allowList: ['a'], blockList: ['b'] }),
      /allow list and block list cannot both be set/,
    );
  });
});

describe('canonicalHeaderName', () => {
  const table: readonly [string, string][] = [
    ['content-type', 'Content-Type'],
    ['CONTENT-TYPE', 'Content-Type'],
    ['x-piko-endpoint', 'X-Piko-Endpoint'],
    ['www-authenticate', 'Www-Authenticate'],
    ['etag', 'Etag'],
    ['x-1-a', 'X-1-A'],
    ['bad header', 'bad header'],
  ];
  for (const [input, expected] of table) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(canonicalHeaderName(input), expected);
    });
  }
});

describe('shouldLogPath', () => {
  const table: readonly [string, boolean][] = [
    ['/', true],
    ['/api/items', true],
    ['/_piko/v1/tcp/my-endpoint', false],
    ['/_piko', false],
    ['/api/_piko', true],
  ];
  for (const [path, expected] of table) {
    it(`is ${String(expected)} for ${path}`, () => {
      assert.equal(shouldLogPath(path), expected);
    });
  }
});

describe('accessLogRecord', () => {
  it('builds the request record with Piko’s request object, no query and a numeric duration', () => {
    const record = accessLogRecord(
      request({ endpointId: 'my-endpoint', clientIp: '10.0.0.7', bytesIn: 0, bytesOut: 17 }),
      filters(),
    );

    assert.deepEqual(record, {
      level: 'info',
      message: 'request',
      fields: {
        request: {
          proto: 'HTTP/1.1',
          method: 'GET',
          host: 'my-endpoint.example.com',
          path: '/api/items',
          request_headers: createHeaderFilter()(REQUEST_HEADERS),
          response_headers: createHeaderFilter()(RESPONSE_HEADERS),
          status: 200,
          duration_ms: 1.52,
        },
        'endpoint-id': 'my-endpoint',
        'client-ip': '10.0.0.7',
        'bytes-in': 0,
        'bytes-out': 17,
      },
    });
  });

  it('rounds duration_ms to 3 decimals (microseconds)', () => {
    const duration = (ms: number): unknown =>
      (accessLogRecord(request({ durationMs: ms }), filters()).fields['request'] as { duration_ms: unknown }).duration_ms;
    assert.equal(duration(12.345678901234567), 12.346);
    assert.equal(duration(0.0004), 0);
    assert.equal(duration(1500), 1500);
  });

  it('leaves out the optional fields it was not given', () => {
    const { fields } = accessLogRecord(request(), filters());

    assert.deepEqual(Object.keys(fields), ['request']);
  });

  it('uses each side’s own filter', () => {
    const record = accessLogRecord(request(), {
      level: 'info',
      requestHeaders: createHeaderFilter({ allowList: ['accept'] }),
      responseHeaders: createHeaderFilter({ blockList: ['content-length', 'set-cookie'] }),
    });
    const logged = record.fields.request as { request_headers: unknown; response_headers: unknown };

    assert.deepEqual(logged.request_headers, { Accept: ['*/*'] });
    assert.deepEqual(logged.response_headers, { 'Content-Type': ['application/json'] });
  });

  it('raises the level to warn for a 5xx status', () => {
    assert.equal(accessLogRecord(request({ status: 502 }), filters('info')).level, 'warn');
    assert.equal(accessLogRecord(request({ status: 499 }), filters('info')).level, 'info');
  });

  it('writes a redacted line through the real logger (T25 snapshot)', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const logger = createWinstonLogger({ level: 'info', stream, now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    const record = accessLogRecord(request({ status: 503, endpointId: 'my-endpoint' }), filters());
    logger.child('proxy.access').log(record.level, record.message, record.fields);

    assert.equal(
      chunks.join(''),
      '{"time":"2026-01-02T03:04:05.006Z","level":"warn","subsystem":"proxy.access","message":"request",' +
        '"request":{"proto":"HTTP/1.1","method":"GET","host":"my-endpoint.example.com","path":"/api/items",' +
        '"request_headers":{"Host":["my-endpoint.example.com"],"User-Agent":["curl/8.5.0"],"Accept":["*/*"],' +
        '"Authorization":["[REDACTED]"],"Proxy-Authorization":["[REDACTED]"],' +
        '"X-Piko-Authorization":["[REDACTED]"],"Cookie":["[REDACTED]"],"X-Piko-Endpoint":["my-endpoint"]},' +
        '"response_headers":{"Content-Type":["application/json"],"Content-Length":["17"],' +
        '"Set-Cookie":["[REDACTED]"]},"status":503,"duration_ms":1.52},"endpoint-id":"my-endpoint"}\n',
    );
  });
});

describe('accessLogLevel', () => {
  const table: readonly [AccessLogFilters['level'], number, AccessLogFilters['level']][] = [
    ['debug', 200, 'debug'],
    ['debug', 500, 'warn'],
    ['info', 404, 'info'],
    ['info', 500, 'warn'],
    ['warn', 599, 'warn'],
    ['error', 200, 'error'],
    ['error', 503, 'error'],
  ];
  for (const [configured, status, expected] of table) {
    it(`is ${expected} for ${configured} and status ${status}`, () => {
      assert.equal(accessLogLevel(configured, status), expected);
    });
  }
});
