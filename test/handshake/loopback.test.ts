import { describe, expect, it } from 'vitest';
import { Suites, type CipherSuite } from '../../src/suites.ts';
import { NamedGroup } from '../../src/handshake/messages/types.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { nodeAeadProvider } from '../../src/crypto/aead/node.ts';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { defaultKexRegistry } from '../../src/kex/registry.ts';
import { nodeEcdh } from '../../src/kex/ecdh-node.ts';
import { TlsEngine } from '../../src/handshake/engine.ts';
import { defaultClient, defaultServer, handshake, concat, text, untext, fixtureCerts, fixtureKey } from './helpers.ts';

const suites: readonly CipherSuite[] = [
  Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  Suites.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];
const groups = [
  ['x25519', NamedGroup.x25519],
  ['secp256r1', NamedGroup.secp256r1],
  ['secp384r1', NamedGroup.secp384r1],
] as const;

describe('loopback: our client ↔ our server', () => {
  for (const provider of [nobleAeadProvider, nodeAeadProvider]) {
    for (const suite of suites) {
      for (const [name, group] of groups) {
        it(`${suite.opensslName} over ${name} (${provider.name})`, async () => {
          const w = await handshake(
            defaultClient({ suites: [suite], groups: [group], aeadProvider: provider }),
            defaultServer({ aeadProvider: provider }),
          );
          expect(w.client.errors).toEqual([]);
          expect(w.server.errors).toEqual([]);
          expect(w.client.engine.state).toBe('open');
          expect(w.server.engine.state).toBe('open');
          const ci = w.client.secure;
          const si = w.server.secure;
          expect(ci?.suite).toBe(suite);
          expect(si?.suite).toBe(suite);
          expect(ci?.group).toBe(name);
          expect(si?.group).toBe(name);
          expect(ci?.authorized).toBe(true);
          expect(ci?.extendedMasterSecret).toBe(true);
          expect(si?.servername).toBe('localhost');
          expect(ci?.peerCertificates.length).toBe(1);
          expect(bytesToHex(ci?.sessionId ?? new Uint8Array())).toBe(bytesToHex(si?.sessionId ?? new Uint8Array(1)));

          w.client.engine.write(text('hello from the client'));
          await w.settle();
          expect(untext(concat(w.server.data))).toBe('hello from the client');
          const big = new Uint8Array(40000).map((_, i) => i & 0xff);
          w.server.engine.write(big);
          await w.settle();
          expect(bytesToHex(concat(w.client.data))).toBe(bytesToHex(big));

          w.client.engine.close();
          await w.settle();
          expect(w.server.peerClosed).toBe(true);
          expect(w.client.peerClosed).toBe(true);
          expect(w.client.engine.state).toBe('closed');
          expect(w.server.engine.state).toBe('closed');
        });
      }
    }
  }

  it('uses a P-384 certificate with ecdsa_secp384r1_sha384', async () => {
    const w = await handshake(
      defaultClient(),
      defaultServer({ certificateChain: fixtureCerts('server-ec384.pem'), privateKey: fixtureKey('server-ec384.key') }),
    );
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.authorized).toBe(true);
  });

  it('both sides log the same CLIENT_RANDOM line', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    expect(w.client.keylog.length).toBe(1);
    expect(w.client.keylog).toEqual(w.server.keylog);
    expect(w.client.keylog[0]).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
  });

  for (const [name, group] of groups) {
    it(`node:crypto ECDH client ↔ noble ECDH server over ${name}, and the reverse`, async () => {
      const nodeKex = defaultKexRegistry({ ecdh: nodeEcdh });
      const a = await handshake(defaultClient({ groups: [group], kex: nodeKex }), defaultServer());
      const b = await handshake(defaultClient({ groups: [group] }), defaultServer({ kex: nodeKex }));
      for (const w of [a, b]) {
        expect(w.client.errors).toEqual([]);
        expect(w.server.errors).toEqual([]);
        expect(w.client.secure?.group).toBe(name);
      }
      // Same injected randomness → the same key log whichever backend does the arithmetic.
      expect(a.client.keylog).toEqual(b.client.keylog);
    });
  }

  it('synchronously wired engines (peer answers re-entrantly inside onOutgoing) complete and exchange data', () => {
    let client: TlsEngine | undefined;
    let server: TlsEngine | undefined;
    const got: string[] = [];
    const secure: string[] = [];
    const events = (peer: () => TlsEngine | undefined, who: string) => ({
      onOutgoing: (b: Uint8Array) => peer()?.receive(b),
      onData: (d: Uint8Array) => got.push(`${who}:${untext(d)}`),
      onSecure: () => secure.push(who),
      onKeylog: () => undefined,
      onPeerClose: () => undefined,
      onError: (e: Error) => {
        throw e;
      },
    });
    client = TlsEngine.client(defaultClient(), events(() => server, 'client'));
    server = TlsEngine.server(defaultServer(), events(() => client, 'server'));
    client.start();
    expect(secure.sort()).toEqual(['client', 'server']);
    client.write(text('a'));
    server.write(text('b'));
    expect(got.sort()).toEqual(['client:b', 'server:a']);
  });
});
