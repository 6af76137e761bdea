import { createSocket } from 'node:dgram';
import type { DatagramBound, DatagramSocketFactory } from './datagram-socket.js';

/** The `node:dgram` socket behind a `DatagramSocket` (the only code of the gossip shell that touches `node:dgram`); its `'error'` always has a handler. */
export const createUdpSocket: DatagramSocketFactory = (family, handlers) => {
  const socket = createSocket({ type: family });
  let binding: ((err: Error) => void) | undefined;
  let closed = false;
  socket.on('error', (err) => (binding !== undefined ? binding(err) : handlers.error(err)));
  socket.on('message', (msg, rinfo) => handlers.message(msg, { address: rinfo.address, port: rinfo.port }));
  return {
    bind: (host, port) =>
      new Promise<DatagramBound>((resolve, reject) => {
        binding = (err) => {
          binding = undefined;
          closed = true;
          socket.close();
          reject(err);
        };
        socket.bind({ port, ...(host === '' ? {} : { address: host }), exclusive: true }, () => {
          binding = undefined;
          const a = socket.address();
          resolve({ address: a.address, port: a.port });
        });
      }),
    send: (bytes, port, host, done) => {
      if (closed) return done(new Error('socket closed'));
      try {
        socket.send(bytes, port, host, (err) => done(err ?? null));
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    },
    close: () => {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
};
