// Expose a local TCP service (here a database on port 5432) on the endpoint "db", like `agent tcp db 5432`.
import { listenAndForward } from 'piko-ts';

const listener = await listenAndForward('db', 'localhost:5432', {
  url: 'http://localhost:8001',
  token: process.env.PIKO_TOKEN ?? '',
  maxReconnectBackoffMs: 10_000,
});
process.once('SIGTERM', () => void listener.close());
