import { describe, expect, it } from 'vitest';
import { createECDH, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { DecodeError, DecryptError, IllegalParameterError } from '../../src/alerts.ts';
import { ByteReader } from '../../src/codec/reader.ts';
import { bytesToHex, concatBytes } from '../../src/codec/bytes.ts';
import { createEcdheEcdsa, ecdhGroupById } from '../../src/kex/ecdhe.ts';
import { nobleEcdh, type EcdhBackend } from '../../src/kex/ecdh.ts';
import { nodeEcdh } from '../../src/kex/ecdh-node.ts';
import type { ClientKexSelection, ServerKexSelection } from '../../src/kex/key-exchange.ts';
import { ExtensionType, NamedGroup, type ClientHello, type Extension } from '../../src/handshake/messages/types.ts';
import { Suites } from '../../src/suites.ts';
import { SignatureScheme, supportedSchemes } from '../../src/x509/signature.ts';
import { encodeSupportedGroups } from '../../src/handshake/messages/extensions/supported-groups.ts';
import { encodeEcPointFormats } from '../../src/handshake/messages/extensions/ec-point-formats.ts';
import { encodeSignatureAlgorithms } from '../../src/handshake/messages/extensions/signature-algorithms.ts';
import { fixedClock, fixtureCerts, fixtureKey, seededRandom } from '../handshake/fixtures.ts';

const suite = Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
const clientRandom = new Uint8Array(32).fill(0x11);
const serverRandom = new Uint8Array(32).fill(0x22);

function hello(extensions: readonly Extension[]): ClientHello {
  return { version: 0x0303, random: clientRandom, sessionId: new Uint8Array(0), cipherSuites: [suite.id], compressionMethods: [0], extensions };
}

function setup(opts: { clientGroups?: number[]; serverGroups?: number[]; leaf?: string; key?: string; backend?: EcdhBackend } = {}) {
  const ecdheEcdsa = createEcdheEcdsa({ ecdh: opts.backend ?? nobleEcdh });
  const clientGroups = opts.clientGroups ?? [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];
  const chain = fixtureCerts(opts.leaf ?? 'server-ec256.pem');
  const privateKey = fixtureKey(opts.key ?? 'server-ec256.key');
  const client = ecdheEcdsa.client({
    suites: [suite],
    groups: clientGroups,
    signatureSchemes: supportedSchemes(),
    clientRandom,
    random: seededRandom('kex-client'),
    clock: fixedClock,
  });
  const server = ecdheEcdsa.server({
    groups: opts.serverGroups ?? [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1],
    certificateChain: chain,
    privateKey,
    random: seededRandom('kex-server'),
    clock: fixedClock,
  });
  const exts = [
    ...((client.helloExtensions?.() ?? []) as Extension[]),
    { type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms(supportedSchemes()) },
  ];
  const ch = hello(exts);
  const ssel: ServerKexSelection = { suite, clientHello: ch, clientRandom, serverRandom };
  const leaf = chain[0];
  if (leaf === undefined) throw new Error('no leaf');
  const csel: ClientKexSelection = {
    suite,
    serverHello: { version: 0x0303, random: serverRandom, sessionId: new Uint8Array(0), cipherSuite: suite.id, compressionMethod: 0, extensions: [] },
    clientRandom,
    serverRandom,
    serverPublicKey: leaf.publicKey,
  };
  return { client, server, ch, ssel, csel };
}

for (const backend of [nobleEcdh, nodeEcdh]) describe(`RFC 8422 ECDHE_ECDSA key exchange (${backend.name} ECDH)`, () => {
  for (const g of backend.groups) {
    for (const leaf of ['server-ec256', 'server-ec384']) {
      it(`agrees on the premaster over ${g.name} with a ${leaf} signature`, () => {
        const { client, server, ch, ssel, csel } = setup({ serverGroups: [g.id], leaf: `${leaf}.pem`, key: `${leaf}.key`, backend });
        expect(server.acceptClient(ch)).toBe(true);
        const ske = server.serverKeyExchange(ssel) as Uint8Array;
        // ServerECDHParams: named_curve(3) ‖ group ‖ point length ‖ point
        expect(ske[0]).toBe(3);
        expect((ske[1]! << 8) | ske[2]!).toBe(g.id);
        expect(ske[3]).toBe(g.publicKeyLength);
        client.processServerKeyExchange(ske, csel);
        const { body, premaster } = client.clientKeyExchange(csel) as { body: Uint8Array; premaster: Uint8Array };
        expect(body[0]).toBe(g.publicKeyLength);
        const serverPremaster = server.processClientKeyExchange(body, ssel) as Uint8Array;
        expect(bytesToHex(serverPremaster)).toBe(bytesToHex(premaster));
        expect(premaster.length).toBe(g.name === 'secp384r1' ? 48 : 32);
        expect(client.group).toBe(g.name);
        expect(server.group).toBe(g.name);
      });
    }
  }

  it('computes the same shared secret as node:crypto (P-256, P-384: x-coordinate; X25519)', () => {
    const rnd = seededRandom('xcheck');
    for (const [id, nodeName] of [
      [NamedGroup.secp256r1, 'prime256v1'],
      [NamedGroup.secp384r1, 'secp384r1'],
    ] as const) {
      const g = ecdhGroupById(id, backend)!;
      const ours = g.generate(rnd);
      const theirs = createECDH(nodeName);
      theirs.generateKeys();
      const expected = theirs.computeSecret(ours.publicKey);
      expect(bytesToHex(ours.sharedSecret(theirs.getPublicKey()))).toBe(expected.toString('hex'));
    }
    const x = ecdhGroupById(NamedGroup.x25519, backend)!;
    const ours = x.generate(rnd);
    const der = (prefix: string, key: Uint8Array) => Buffer.concat([Buffer.from(prefix, 'hex'), key]);
    const priv = createPrivateKey({ key: der('302e020100300506032b656e04220420', seededRandom('node-x')(32)), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32);
    const expected = diffieHellman({ privateKey: priv, publicKey: createPublicKey({ key: der('302a300506032b656e032100', ours.publicKey), format: 'der', type: 'spki' }) });
    expect(bytesToHex(ours.sharedSecret(new Uint8Array(pub)))).toBe(expected.toString('hex'));
  });

  it('server picks its preferred group among the client groups', () => {
    const { server, ch, ssel } = setup({ clientGroups: [NamedGroup.secp384r1, NamedGroup.secp256r1], serverGroups: [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1] , backend });
    expect(server.acceptClient(ch)).toBe(true);
    server.serverKeyExchange(ssel);
    expect(server.group).toBe('secp256r1');
  });

  it('server declines a client with no common group; aborts (illegal_parameter, RFC 8422 §5.1.2) one without uncompressed points', () => {
    const a = setup({ clientGroups: [NamedGroup.x25519], serverGroups: [NamedGroup.secp256r1] , backend });
    expect(a.server.acceptClient(a.ch)).toBe(false);
    const b = setup({ backend });
    const ch = hello([
      { type: ExtensionType.supported_groups, data: encodeSupportedGroups([NamedGroup.x25519]) },
      { type: ExtensionType.ec_point_formats, data: encodeEcPointFormats([1]) },
    ]);
    expect(() => b.server.acceptClient(ch)).toThrow(IllegalParameterError);
  });

  it('server declines when the client accepts no scheme for its key', () => {
    const { server } = setup({ backend });
    const ch = hello([{ type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms([SignatureScheme.rsa_pkcs1_sha256]) }]);
    expect(server.acceptClient(ch)).toBe(false);
  });

  it('server without an EC certificate declines', () => {
    const { ch } = setup({ backend });
    const server = createEcdheEcdsa({ ecdh: backend }).server({ groups: [NamedGroup.x25519], random: seededRandom('x'), clock: fixedClock });
    expect(server.acceptClient(ch)).toBe(false);
  });

  function signedSke(g: number) {
    const s = setup({ serverGroups: [g] , backend });
    s.server.acceptClient(s.ch);
    const ske = s.server.serverKeyExchange(s.ssel) as Uint8Array;
    return { ...s, ske };
  }

  it('rejects a ServerKeyExchange whose signature does not verify (decrypt_error)', () => {
    const { client, ske, csel } = signedSke(NamedGroup.x25519);
    const bad = ske.slice();
    bad[bad.length - 5]! ^= 0x01;
    expect(() => client.processServerKeyExchange(bad, csel)).toThrow(DecryptError);
    // Also: params altered under a valid signature.
    const bad2 = ske.slice();
    bad2[10]! ^= 0x01;
    expect(() => client.processServerKeyExchange(bad2, csel)).toThrow(DecryptError);
    // And: a signature over other randoms.
    expect(() => client.processServerKeyExchange(ske, { ...csel, serverRandom: new Uint8Array(32) })).toThrow(DecryptError);
  });

  it('rejects every truncated prefix of a ServerKeyExchange with DecodeError or IllegalParameterError', () => {
    const { client, ske, csel } = signedSke(NamedGroup.secp256r1);
    for (let n = 0; n < ske.length; n++) {
      let thrown: unknown;
      try {
        client.processServerKeyExchange(ske.subarray(0, n), csel);
      } catch (e) {
        thrown = e;
      }
      expect(thrown instanceof DecodeError || thrown instanceof IllegalParameterError, `prefix ${n}`).toBe(true);
    }
  });

  it('rejects explicit curves, unoffered groups and unoffered schemes (illegal_parameter)', () => {
    const { client, ske, csel } = signedSke(NamedGroup.x25519);
    const explicit = ske.slice();
    explicit[0] = 1;
    expect(() => client.processServerKeyExchange(explicit, csel)).toThrow(IllegalParameterError);
    const other = ske.slice();
    other[2] = 25; // secp521r1: not offered
    expect(() => client.processServerKeyExchange(other, csel)).toThrow(IllegalParameterError);
    const scheme = ske.slice();
    const at = 4 + 32; // after params
    scheme[at] = 0x02; // 0x0203 ecdsa_sha1: not offered
    expect(() => client.processServerKeyExchange(scheme, csel)).toThrow(IllegalParameterError);
  });

  it('validates the client point: length, low order (X25519), off-curve and compressed (NIST)', () => {
    for (const [g, bad] of [
      [NamedGroup.x25519, new Uint8Array(32)], // u = 0: low order
      [NamedGroup.x25519, concatBytes(new Uint8Array([1]), new Uint8Array(31))], // u = 1: low order
      [NamedGroup.x25519, new Uint8Array(31).fill(9)],
      [NamedGroup.secp256r1, concatBytes(new Uint8Array([4]), new Uint8Array(64).fill(1))], // off curve
      [NamedGroup.secp256r1, concatBytes(new Uint8Array([2]), new Uint8Array(32).fill(1))], // compressed
      [NamedGroup.secp384r1, concatBytes(new Uint8Array([4]), new Uint8Array(96))], // (0,0): off curve
    ] as const) {
      const { server, ch, ssel } = setup({ serverGroups: [g] , backend });
      server.acceptClient(ch);
      server.serverKeyExchange(ssel);
      const body = concatBytes(new Uint8Array([bad.length]), bad);
      expect(() => server.processClientKeyExchange(body, ssel), `group ${g}`).toThrow(IllegalParameterError);
    }
  });

  it('rejects a ClientKeyExchange with trailing bytes or a bad length (decode_error)', () => {
    const { server, ch, ssel } = setup({ serverGroups: [NamedGroup.x25519] });
    server.acceptClient(ch);
    server.serverKeyExchange(ssel);
    expect(() => server.processClientKeyExchange(new Uint8Array([33, ...new Uint8Array(32).fill(9)]), ssel)).toThrow(DecodeError);
    expect(() => server.processClientKeyExchange(new Uint8Array([32, ...new Uint8Array(33).fill(9)]), ssel)).toThrow(DecodeError);
  });

  it('produces the same public keys and secrets as the other backend for the same randomness', () => {
    const other = backend === nobleEcdh ? nodeEcdh : nobleEcdh;
    for (const g of backend.groups) {
      const a = g.generate(seededRandom(`same-${g.name}`));
      const b = ecdhGroupById(g.id, other)!.generate(seededRandom(`same-${g.name}`));
      expect(bytesToHex(a.publicKey)).toBe(bytesToHex(b.publicKey));
      const peer = g.generate(seededRandom(`peer-${g.name}`));
      expect(bytesToHex(a.sharedSecret(peer.publicKey))).toBe(bytesToHex(b.sharedSecret(peer.publicKey)));
    }
  });

  it('parses what it signs exactly as RFC 8422 §5.4 lays it out', () => {
    const { ske } = signedSke(NamedGroup.secp384r1);
    const r = new ByteReader(ske);
    expect(r.u8()).toBe(3);
    expect(r.u16()).toBe(NamedGroup.secp384r1);
    expect(r.opaque8().length).toBe(97);
    expect(r.u16()).toBe(SignatureScheme.ecdsa_secp256r1_sha256);
    r.opaque16();
    r.expectEnd();
  });
});
