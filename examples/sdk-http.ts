// Serve an HTTP app on the endpoint "my-app" straight from this process: no agent needed.
// Run a server first (npx piko-ts server), then: curl -H 'x-piko-endpoint: my-app' http://localhost:8000/
import { createServer } from 'node:http';
import { serveHttp } from 'piko-ts';

const app = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from the SDK: ${req.method} ${req.url}\n`);
});

const listener = await serveHttp('my-app', app, { url: 'http://localhost:8001' });
listener.on('disconnected', (reason: string) => console.error('tunnel lost, reconnecting:', reason));
process.once('SIGINT', () => void listener.close().then(() => process.exit(0)));
