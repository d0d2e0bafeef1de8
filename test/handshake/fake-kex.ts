/**
 * A test key exchange shaped like the Milagro ones (milagro.md §7.2): no Certificate, an unsigned
 * ServerKeyExchange, a ClientHello extension computed asynchronously, a server-side acceptance
 * check before suite selection, and every step asynchronous. Underneath it is plain X25519, so
 * the engine's handling of such flows can be tested before the real Milagro providers exist.
 */
import { AccessDeniedError } from '../../src/alerts.ts';
import { ByteReader } from '../../src/codec/reader.ts';
import { ecdhGroupById } from '../../src/kex/ecdhe.ts';
import type { EcdhKeyPair } from '../../src/kex/ecdh.ts';
import type { KexFlow, KeyExchangeProvider, PeerIdentity } from '../../src/kex/key-exchange.ts';
import { defaultKexRegistry, type KexRegistry } from '../../src/kex/registry.ts';
import { findExtension } from '../../src/handshake/messages/extensions/index.ts';
import { NamedGroup } from '../../src/handshake/messages/types.ts';

export const fakeMilagroFlow: KexFlow = Object.freeze({
  serverCertificate: false,
  serverKeyExchange: true,
  signedServerKeyExchange: false,
  certificateRequestAllowed: false,
});

const x = (() => {
  const g = ecdhGroupById(NamedGroup.x25519);
  if (g === undefined) throw new Error('x25519 missing');
  return g;
})();

const later = <T>(v: T, ms = 2): Promise<T> => new Promise((r) => setTimeout(() => r(v), ms));

export interface FakeOptions {
  readonly extensionType?: number;
  /** Client identity sent in the extension; the server accepts only `allowed`. */
  readonly identity?: string;
  readonly allowed?: string;
  /** Server: decline (false) instead of throwing access_denied for a wrong identity. */
  readonly declineUnknown?: boolean;
  /** Steps log, to check ordering. */
  readonly log?: string[];
}

export function fakeMilagro(opts: FakeOptions = {}): KeyExchangeProvider {
  const ext = opts.extensionType ?? 37;
  const log = opts.log ?? [];
  return {
    name: 'MILAGRO_P2P',
    flow: fakeMilagroFlow,
    client(ctx) {
      let serverPoint: Uint8Array | undefined;
      return {
        async helloExtensions() {
          log.push('client:hello-ext');
          return later([{ type: ext, data: new TextEncoder().encode(opts.identity ?? 'alice') }]);
        },
        async processServerKeyExchange(body) {
          log.push('client:ske');
          const r = new ByteReader(body, 'fake ske');
          serverPoint = r.opaque8('point', 32, 32);
          r.expectEnd();
          await later(undefined);
        },
        async clientKeyExchange() {
          log.push('client:cke');
          if (serverPoint === undefined) throw new Error('no ske');
          const pair = x.generate(ctx.random);
          const premaster = pair.sharedSecret(serverPoint);
          return later({ body: new Uint8Array([32, ...pair.publicKey]), premaster });
        },
        get peerIdentity(): PeerIdentity {
          return { kind: 'wcc', hashId: new Uint8Array(32), identity: 'server' };
        },
      };
    },
    server(ctx) {
      let secret: EcdhKeyPair | undefined;
      let who: string | undefined;
      return {
        async acceptClient(hello) {
          log.push('server:accept');
          const e = findExtension(hello.extensions, ext);
          await later(undefined);
          if (e === undefined) return false;
          who = new TextDecoder().decode(e.data);
          if (opts.allowed !== undefined && who !== opts.allowed) {
            if (opts.declineUnknown === true) return false;
            throw new AccessDeniedError('fake: unknown identity');
          }
          return true;
        },
        async serverKeyExchange() {
          log.push('server:ske');
          const pair = x.generate(ctx.random);
          secret = pair;
          return later(new Uint8Array([32, ...pair.publicKey]));
        },
        async processClientKeyExchange(body) {
          log.push('server:cke');
          const r = new ByteReader(body, 'fake cke');
          const p = r.opaque8('point', 32, 32);
          r.expectEnd();
          if (secret === undefined) throw new Error('no ske');
          return later(secret.sharedSecret(p), 5);
        },
        get peerIdentity(): PeerIdentity | undefined {
          return who === undefined ? undefined : { kind: 'mpin', hashId: new Uint8Array(32), identity: who };
        },
      };
    },
  };
}

export interface GatedKex {
  /** The default registry plus the gated fake (suite MILAGRO_P2P_WITH_AES_128_GCM_SHA256). */
  readonly kex: KexRegistry;
  /** Let every server acceptance that waits (and every later one) proceed. */
  open(): void;
  /** Resolves when a server acceptance started waiting. */
  readonly entered: Promise<void>;
  /** Server acceptances started so far. */
  readonly started: () => number;
}

/**
 * The fake Milagro kex whose server acceptance waits until `open()`: a pairing that takes as long
 * as the test wants, to observe what the engine and the socket do meanwhile.
 */
export function gatedFakeMilagro(opts: FakeOptions = {}): GatedKex {
  let open!: () => void;
  let entered!: () => void;
  let count = 0;
  const gate = new Promise<void>((r) => (open = r));
  const enteredP = new Promise<void>((r) => (entered = r));
  const base = fakeMilagro(opts);
  const provider: KeyExchangeProvider = {
    ...base,
    server(ctx) {
      const session = base.server(ctx);
      const accept = session.acceptClient?.bind(session);
      // Keeps the session object itself (its peerIdentity getter), replacing only acceptClient.
      return Object.assign(session, {
        acceptClient: async (hello: Parameters<NonNullable<typeof accept>>[0]) => {
          count++;
          entered();
          await gate;
          return accept === undefined ? true : accept(hello);
        },
      });
    },
  };
  return { kex: defaultKexRegistry().withProvider(provider), open, entered: enteredP, started: () => count };
}
