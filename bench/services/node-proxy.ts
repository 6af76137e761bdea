import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';

/**
 * The one-hop Node baseline: a minimal reverse proxy on http-proxy-3 with a keep-alive agent towards the
 * upstream (port in argv[2]). It shows what one Node hop costs, without any tunnel.
 */
const target = `http://127.0.0.1:${process.argv[2] ?? '0'}`;
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const proxy = createProxyServer({ target, agent });
proxy.on('error', (_err, _req, res) => {
  if (res && 'writeHead' in res && !res.headersSent) {
    res.writeHead(502);
    res.end();
  }
});

const server = createServer((req, res) => {
  proxy.web(req, res);
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
