/**
 * Where a tunnel listens or forwards to: HOST:PORT (IPv6 in brackets) or unix:PATH. Parsing is
 * strict so a typo fails at start-up with a message that shows the accepted forms.
 */
import { connect as netConnect, type Socket } from 'node:net';

export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

/** "127.0.0.1:1883", "[::1]:1883", "localhost:1883" or (when `allowUnix`) "unix:/run/app.sock". */
export function parseEndpoint(spec: string, what: string, allowUnix: boolean): Endpoint {
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    if (!allowUnix) throw new EndpointError(`${what} must be HOST:PORT here, not a unix socket ("${spec}")`);
    if (path.length === 0) throw new EndpointError(`${what} unix:PATH needs a path, e.g. unix:/run/mosquitto.sock`);
    return { path };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(spec);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new EndpointError(`${what} takes HOST:PORT${allowUnix ? ' or unix:PATH' : ''} (e.g. 127.0.0.1:8883, [::1]:8883), not "${spec}"`);
  }
  return { host, port };
}

export function formatEndpoint(e: Endpoint): string {
  if ('path' in e) return `unix:${e.path}`;
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Opens a plaintext connection to the target (TCP or unix socket). */
export function dialEndpoint(e: Endpoint): Socket {
  return 'path' in e ? netConnect({ path: e.path }) : netConnect({ host: e.host, port: e.port });
}

/** "1.2.3.4:5678" / "[::1]:5678" for a socket's remote end, "local" for unix sockets. */
export function remoteOf(s: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }): string {
  const a = s.remoteAddress;
  if (a === undefined) return 'local';
  const addr = a.startsWith('::ffff:') ? a.slice(7) : a;
  const port = s.remotePort === undefined ? '' : `:${s.remotePort}`;
  return addr.includes(':') ? `[${addr}]${port}` : `${addr}${port}`;
}
