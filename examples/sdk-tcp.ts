// A raw TCP service on the endpoint "echo", and a client that dials it through the proxy port.
import { dial, listen } from 'piko-ts';
import type { Duplex } from 'node:stream';

const listener = await listen('echo', { url: 'http://localhost:8001' });
listener.on('connection', (socket: Duplex) => {
  // Half-close works end to end: answer after the client has finished sending.
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => socket.end(Buffer.concat(chunks).toString().toUpperCase()));
});

const conn = await dial('echo', { url: 'http://localhost:8000' });
conn.end('hello through the tunnel');
let reply = '';
for await (const chunk of conn) reply += String(chunk);
console.log(reply); // HELLO THROUGH THE TUNNEL

await listener.close(); // stop accepting; resolves when live connections have ended
