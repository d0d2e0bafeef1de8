/** Test helpers for the handshake engine: default configs and an in-memory wire between two engines. */
import { TlsEngine, type EngineEvents, type HandshakeInfo } from '../../src/handshake/engine.ts';
import { clientConfig, serverConfig, type ClientEngineConfig, type ServerEngineConfig } from '../../src/handshake/config.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { fixedClock, fixtureCerts, fixtureKey, seededRandom } from './fixtures.ts';

export { fixedClock, fixtureCerts, fixtureKey, seededRandom };

export function defaultClient(over: Partial<ClientEngineConfig> = {}): ClientEngineConfig {
  return clientConfig({
    ca: fixtureCerts('ca-ec.pem'),
    servername: 'localhost',
    rejectUnauthorized: true,
    random: seededRandom('client'),
    clock: fixedClock,
    ...over,
  });
}

export function defaultServer(over: Partial<ServerEngineConfig> = {}): ServerEngineConfig {
  return serverConfig({
    certificateChain: fixtureCerts('server-ec256.pem'),
    privateKey: fixtureKey('server-ec256.key'),
    random: seededRandom('server'),
    clock: fixedClock,
    ...over,
  });
}

export interface Side {
  readonly engine: TlsEngine;
  readonly data: Uint8Array[];
  readonly errors: Error[];
  readonly keylog: string[];
  /** Every chunk this side emitted, in order. */
  readonly sent: Uint8Array[];
  secure: HandshakeInfo | undefined;
  peerClosed: boolean;
}

function side(make: (events: EngineEvents) => TlsEngine, outbox: Uint8Array[]): Side {
  const s: Omit<Side, 'engine'> & { engine?: TlsEngine } = {
    data: [],
    errors: [],
    keylog: [],
    sent: [],
    secure: undefined,
    peerClosed: false,
  };
  const events: EngineEvents = {
    onOutgoing: (b) => {
      s.sent.push(b);
      outbox.push(b);
    },
    onData: (b) => s.data.push(b),
    onSecure: (info) => {
      s.secure = info;
    },
    onKeylog: (l) => s.keylog.push(l),
    onPeerClose: () => {
      s.peerClosed = true;
    },
    onError: (e) => s.errors.push(e),
  };
  s.engine = make(events);
  return s as Side;
}

export type Direction = 'c2s' | 's2c';
/** Rewrite (or drop, by returning undefined) bytes in flight. */
export type Tamper = (dir: Direction, bytes: Uint8Array, index: number) => Uint8Array | undefined;

export interface Wire {
  readonly client: Side;
  readonly server: Side;
  /** Deliver queued bytes both ways until nothing moves (awaiting async steps). */
  settle(): Promise<void>;
}

export function wire(clientCfg: ClientEngineConfig, serverCfg: ServerEngineConfig, tamper?: Tamper): Wire {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const client = side((ev) => TlsEngine.client(clientCfg, ev), toServer);
  const server = side((ev) => TlsEngine.server(serverCfg, ev), toClient);
  const counts = { c2s: 0, s2c: 0 };
  const move = (dir: Direction, box: Uint8Array[], to: TlsEngine): boolean => {
    if (box.length === 0) return false;
    const items = box.splice(0);
    for (const b of items) {
      const t = tamper === undefined ? b : tamper(dir, b, counts[dir]++);
      if (t !== undefined) to.receive(t);
    }
    return true;
  };
  return {
    client,
    server,
    async settle() {
      for (let i = 0; i < 1000; i++) {
        await client.engine.idle;
        await server.engine.idle;
        const a = move('c2s', toServer, server.engine);
        const b = move('s2c', toClient, client.engine);
        if (!a && !b && toServer.length === 0 && toClient.length === 0) {
          await client.engine.idle;
          await server.engine.idle;
          if (toServer.length === 0 && toClient.length === 0) return;
        }
      }
      throw new Error('wire did not settle');
    },
  };
}

/** Connect and complete the handshake. */
export async function handshake(clientCfg: ClientEngineConfig, serverCfg: ServerEngineConfig, tamper?: Tamper): Promise<Wire> {
  const w = wire(clientCfg, serverCfg, tamper);
  w.client.engine.start();
  await w.settle();
  return w;
}

export const concat = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts);

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const untext = (b: Uint8Array): string => new TextDecoder().decode(b);
