/**
 * `connect(options[, callback])`, like node:tls: opens a TCP connection (or uses `options.socket`)
 * and runs the client handshake over it. The callback is a 'secureConnect' listener.
 */
import { connect as netConnect } from 'node:net';
import { resolveClientOptions } from './config.ts';
import type { ConnectionOptions } from './options.ts';
import { TLSSocket } from './tls-socket.ts';

export function connect(options: ConnectionOptions, callback?: () => void): TLSSocket;
export function connect(port: number, host?: string, options?: ConnectionOptions, callback?: () => void): TLSSocket;
export function connect(
  a: ConnectionOptions | number,
  b?: string | (() => void),
  c?: ConnectionOptions,
  d?: () => void,
): TLSSocket {
  let options: ConnectionOptions;
  let callback: (() => void) | undefined;
  if (typeof a === 'number') {
    options = { ...(c ?? {}), port: a, ...(typeof b === 'string' ? { host: b } : {}) };
    callback = d;
  } else {
    options = a;
    callback = typeof b === 'function' ? b : undefined;
  }
  // Validate everything (cipher names, CA files, versions) before touching the network.
  const resolved = resolveClientOptions(options);
  let transport = options.socket;
  if (transport === undefined) {
    if (options.port === undefined) throw new TypeError('connect: `port` (or `socket`) is required');
    transport = netConnect({
      host: options.host ?? 'localhost',
      port: options.port,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
  }
  const socket = new TLSSocket(transport, { isServer: false, engine: resolved.engine, handshakeTimeout: resolved.handshakeTimeout });
  if (options.timeout !== undefined) socket.setTimeout(options.timeout);
  if (callback !== undefined) socket.once('secureConnect', callback);
  return socket;
}
