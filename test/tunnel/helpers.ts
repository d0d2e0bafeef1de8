/** Shared fixtures for the tunnel tests: DTA-issued identities, an echo target, log capture. */
import { once } from 'node:events';
import { connect as netConnect, createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { dayOf } from '../../src/crypto/mpin.ts';
import { hashIdHex } from '../../src/identity/client/mpin-client.ts';
import { fetchWccKey, type WccKey } from '../../src/identity/client/shares.ts';
import type { ConnectionRecord, TunnelLogRecord } from '../../src/tunnel/index.ts';
import { crypto, type DtaCluster } from '../identity/helpers.ts';

export async function issueWcc(cluster: DtaCluster, role: 'sender' | 'receiver', identity: string): Promise<WccKey> {
  const hashId = hashIdHex(crypto, identity);
  const today = dayOf(cluster.clock.read());
  return fetchWccKey({
    crypto,
    dtas: cluster.urls,
    role,
    hashId,
    request: cluster.sign({ op: role === 'sender' ? 'wcc-sender' : 'wcc-receiver', hashId, withPermits: true, fromDay: today, toDay: today + 1 }),
  });
}

export async function revoke(cluster: DtaCluster, identity: string): Promise<void> {
  const { revokeEverywhere } = await import('../../src/identity/client/shares.ts');
  await revokeEverywhere({ dtas: cluster.urls, request: cluster.sign({ op: 'revoke', hashId: hashIdHex(crypto, identity), reason: 'test' }) });
}

/** A plaintext target that echoes with a prefix (so the test sees the data went through it). */
export async function echoTarget(prefix = 'echo:'): Promise<{ server: NetServer; port: number; sockets: Set<Socket>; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = netCreateServer((s) => {
    accepted += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => s.write(`${prefix}${d.toString()}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sockets, accepted: () => accepted };
}

/** Log capture with a way to wait for the next connection record matching a predicate. */
export class LogCapture {
  readonly records: TunnelLogRecord[] = [];
  readonly #waiters: { pred: (r: ConnectionRecord) => boolean; resolve: (r: ConnectionRecord) => void }[] = [];
  readonly sink = (r: TunnelLogRecord): void => {
    this.records.push(r);
    if (r.type !== 'connection') return;
    for (const w of [...this.#waiters]) {
      if (w.pred(r)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  };

  get connections(): ConnectionRecord[] {
    return this.records.filter((r): r is ConnectionRecord => r.type === 'connection');
  }

  /** Resolves with the first record (already logged after `from`, or future) matching `pred`. */
  next(pred: (r: ConnectionRecord) => boolean = () => true, from = 0): Promise<ConnectionRecord> {
    const seen = this.connections.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
}

/** Sends `msg`, resolves with the first data (or '' if the connection closes without any), then ends. */
export async function request(port: number, msg: string): Promise<{ reply: string; socket: Socket }> {
  const s = netConnect({ port, host: '127.0.0.1' });
  s.on('error', () => undefined);
  await once(s, 'connect');
  s.write(msg);
  const reply = await new Promise<string>((resolve) => {
    s.once('data', (d: Buffer) => resolve(d.toString()));
    s.once('close', () => resolve(''));
  });
  return { reply, socket: s };
}
