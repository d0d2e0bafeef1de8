/**
 * ECDHE key exchange for TLS 1.2 (RFC 8422) over X25519 (RFC 7748), secp256r1 and secp384r1,
 * with the ServerKeyExchange signed by the server's ECDSA (ECDHE_ECDSA) or RSA (ECDHE_RSA)
 * certificate key.
 * The ECDH arithmetic and peer-point validation live in ecdh.ts (noble, default) or
 * ecdh-node.ts (node:crypto); this file owns the message codecs and the negotiation.
 */
import { DecryptError, HandshakeFailureError, IllegalParameterError, TlsError, AlertDescription } from '../alerts.ts';
import { ByteReader } from '../codec/reader.ts';
import { ByteWriter } from '../codec/writer.ts';
import { concatBytes } from '../codec/bytes.ts';
import { groupById, invalidPoint, nobleEcdh, type EcdhBackend, type EcdhGroup, type EcdhKeyPair } from './ecdh.ts';
import { ExtensionType, NamedGroup, type ClientHello, type Extension } from '../handshake/messages/types.ts';
import { findExtension } from '../handshake/messages/extensions/index.ts';
import { decodeSupportedGroups, encodeSupportedGroups } from '../handshake/messages/extensions/supported-groups.ts';
import { decodeEcPointFormats, encodeEcPointFormats } from '../handshake/messages/extensions/ec-point-formats.ts';
import { decodeSignatureAlgorithms } from '../handshake/messages/extensions/signature-algorithms.ts';
import { chooseScheme, nobleSignatures, signTls, supportedSchemes, verifyTls, type SignatureBackend } from '../x509/signature.ts';
import { MIN_RSA_BITS } from '../x509/rsa.ts';
import type {
  ClientKexContext,
  ClientKexResult,
  ClientKexSelection,
  ClientKeyExchangeSession,
  KexFlow,
  KeyExchangeProvider,
  ServerKexContext,
  ServerKexSelection,
  ServerKeyExchangeSession,
} from './key-exchange.ts';

/** RFC 8422 §5.4 ECCurveType.named_curve. */
const namedCurve = 3;
/** RFC 8422 §5.1.2 ECPointFormat.uncompressed. */
const uncompressed = 0;

/** The noble groups (default backend), for callers that want a group by id. */
export const EcdhGroups: readonly EcdhGroup[] = nobleEcdh.groups;

export function ecdhGroupById(id: number, backend: EcdhBackend = nobleEcdh): EcdhGroup | undefined {
  return groupById(backend, id);
}

/** ServerECDHParams (RFC 8422 §5.4): curve_type ‖ namedcurve ‖ opaque point<1..2^8-1>. */
function encodeParams(group: EcdhGroup, point: Uint8Array): Uint8Array {
  const w = new ByteWriter(4 + point.length);
  w.u8(namedCurve).u16(group.id).withLength8((b) => b.bytes(point));
  return w.finish();
}

export const ecdheFlow: KexFlow = Object.freeze({
  serverCertificate: true,
  serverKeyExchange: true,
  signedServerKeyExchange: true,
  certificateRequestAllowed: true,
});

/** The certificate key type that signs the ServerKeyExchange: ECDHE_ECDSA → 'ec', ECDHE_RSA → 'rsa'. */
type SignerKind = 'ec' | 'rsa';

class EcdheClientSession implements ClientKeyExchangeSession {
  readonly #ctx: ClientKexContext;
  readonly #backend: EcdhBackend;
  readonly #signatures: SignatureBackend;
  readonly #signer: SignerKind;
  #group: EcdhGroup | undefined;
  #serverPoint: Uint8Array | undefined;

  constructor(ctx: ClientKexContext, backend: Backends, signer: SignerKind) {
    this.#ctx = ctx;
    this.#backend = backend.ecdh;
    this.#signatures = backend.signatures;
    this.#signer = signer;
  }

  get group(): string | undefined {
    return this.#group?.name;
  }

  helloExtensions(): readonly Extension[] {
    const groups = this.#ctx.groups.filter((g) => groupById(this.#backend, g) !== undefined);
    return [
      { type: ExtensionType.supported_groups, data: encodeSupportedGroups(groups) },
      { type: ExtensionType.ec_point_formats, data: encodeEcPointFormats([uncompressed]) },
    ];
  }

  processServerKeyExchange(body: Uint8Array, sel: ClientKexSelection): void {
    const r = new ByteReader(body, 'server_key_exchange');
    const paramsStart = r.offset;
    const curveType = r.u8('curve_type');
    if (curveType !== namedCurve) throw new IllegalParameterError(`ECDHE: curve_type ${curveType} is not named_curve`);
    const groupId = r.u16('namedcurve');
    const point = r.opaque8('public', 1);
    const params = body.subarray(paramsStart, r.offset);
    const scheme = r.u16('signature_algorithm');
    const signature = r.opaque16('signature');
    r.expectEnd();

    // RFC 8422 §5.4: the server must pick one of the groups we offered.
    const group = groupById(this.#backend, groupId);
    if (group === undefined || !this.#ctx.groups.includes(groupId)) {
      throw new IllegalParameterError(`ECDHE: server chose group ${groupId} that we did not offer`);
    }
    if (point.length !== group.publicKeyLength) throw invalidPoint(group.name);
    // RFC 5246 §7.4.1.4.1: the scheme must be one we offered.
    if (!this.#ctx.signatureSchemes.includes(scheme)) {
      throw new IllegalParameterError(`ECDHE: server signed with scheme 0x${scheme.toString(16)} that we did not offer`);
    }
    const key = sel.serverPublicKey;
    if (key === undefined) throw new HandshakeFailureError('ECDHE: no server certificate key to verify the ServerKeyExchange');
    // RFC 8422 §5.3 / RFC 5246 §7.4.2: the certificate key type must match the suite.
    if (key.type !== this.#signer) {
      throw new TlsError(AlertDescription.unsupported_certificate, `ECDHE: server certificate key is ${key.type}, suite needs ${this.#signer}`);
    }
    // Issue 4: RSA keys under 2048 bits are refused, also from peers.
    if (key.type === 'rsa' && key.bits < MIN_RSA_BITS) {
      throw new TlsError(AlertDescription.insufficient_security, `ECDHE_RSA: server RSA key of ${key.bits} bits is below ${MIN_RSA_BITS}`);
    }
    // RFC 8422 §5.4: signature over client_random ‖ server_random ‖ ServerECDHParams.
    const signed = concatBytes(sel.clientRandom, sel.serverRandom, params);
    if (!verifyTls(key, scheme, signed, signature, this.#signatures)) {
      throw new DecryptError('ECDHE: ServerKeyExchange signature does not verify');
    }
    this.#group = group;
    this.#serverPoint = point;
  }

  clientKeyExchange(): ClientKexResult {
    const group = this.#group;
    const serverPoint = this.#serverPoint;
    if (group === undefined || serverPoint === undefined) throw new TypeError('ECDHE: ServerKeyExchange not processed');
    const pair = group.generate(this.#ctx.random);
    const premaster = pair.sharedSecret(serverPoint);
    pair.destroy();
    // ClientECDiffieHellmanPublic (RFC 8422 §5.7): opaque point<1..2^8-1>.
    const w = new ByteWriter(1 + pair.publicKey.length);
    w.withLength8((b) => b.bytes(pair.publicKey));
    return { body: w.finish(), premaster };
  }
}

class EcdheServerSession implements ServerKeyExchangeSession {
  readonly #ctx: ServerKexContext;
  readonly #backend: EcdhBackend;
  readonly #signatures: SignatureBackend;
  readonly #signer: SignerKind;
  #group: EcdhGroup | undefined;
  #scheme: number | undefined;
  #pair: EcdhKeyPair | undefined;
  #echoPointFormats = false;

  constructor(ctx: ServerKexContext, backend: Backends, signer: SignerKind) {
    this.#ctx = ctx;
    this.#backend = backend.ecdh;
    this.#signatures = backend.signatures;
    this.#signer = signer;
  }

  get group(): string | undefined {
    return this.#group?.name;
  }

  acceptClient(hello: ClientHello): boolean {
    const key = this.#ctx.privateKey;
    const leaf = this.#ctx.certificateChain?.[0];
    if (key === undefined || leaf === undefined || key.type !== this.#signer || leaf.publicKey.type !== this.#signer) return false;

    // RFC 8422 §4: without supported_groups the server may use any group; pick secp256r1 when we
    // have it, since that is what such legacy clients most likely implement.
    const groupsExt = findExtension(hello.extensions, ExtensionType.supported_groups);
    const ours = this.#ctx.groups.map((id) => groupById(this.#backend, id)).filter((g): g is EcdhGroup => g !== undefined);
    let group: EcdhGroup | undefined;
    if (groupsExt === undefined) {
      group = ours.find((g) => g.id === NamedGroup.secp256r1) ?? ours[0];
    } else {
      const theirs = decodeSupportedGroups(groupsExt.data);
      group = ours.find((g) => theirs.includes(g.id));
    }
    if (group === undefined) return false;

    // RFC 8422 §5.1.2: a client that lists point formats without uncompressed (and named one of
    // the RFC's curves, which reaching here implies) → the server "MUST abort the handshake and
    // return an illegal_parameter alert".
    const formatsExt = findExtension(hello.extensions, ExtensionType.ec_point_formats);
    if (formatsExt !== undefined && !decodeEcPointFormats(formatsExt.data).includes(uncompressed)) {
      throw new IllegalParameterError('client ec_point_formats lacks uncompressed (RFC 8422 §5.1.2)');
    }

    // RFC 5246 §7.4.1.4.1: absent signature_algorithms means {sha1,ecdsa}; we do not sign with
    // SHA-1, so (like most stacks) we fall back to our own preference for the key's curve.
    const sigExt = findExtension(hello.extensions, ExtensionType.signature_algorithms);
    const peerSchemes = sigExt === undefined ? supportedSchemes() : decodeSignatureAlgorithms(sigExt.data);
    const scheme = chooseScheme(key, peerSchemes);
    if (scheme === undefined) return false;

    this.#group = group;
    this.#scheme = scheme;
    this.#echoPointFormats = formatsExt !== undefined;
    return true;
  }

  /** RFC 8422 §5.2: answer the client's ec_point_formats with ours. */
  serverHelloExtensions(): readonly Extension[] {
    return this.#echoPointFormats ? [{ type: ExtensionType.ec_point_formats, data: encodeEcPointFormats([uncompressed]) }] : [];
  }

  serverKeyExchange(sel: ServerKexSelection): Uint8Array {
    const group = this.#group;
    const scheme = this.#scheme;
    const key = this.#ctx.privateKey;
    if (group === undefined || scheme === undefined || key === undefined) throw new TypeError('ECDHE: client not accepted');
    const pair = group.generate(this.#ctx.random);
    this.#pair = pair;
    const params = encodeParams(group, pair.publicKey);
    const signature = signTls(key, scheme, concatBytes(sel.clientRandom, sel.serverRandom, params), this.#ctx.random, this.#signatures);
    const w = new ByteWriter(params.length + 4 + signature.length);
    w.bytes(params).u16(scheme).withLength16((b) => b.bytes(signature));
    return w.finish();
  }

  processClientKeyExchange(body: Uint8Array): Uint8Array {
    const pair = this.#pair;
    if (pair === undefined) throw new TypeError('ECDHE: ServerKeyExchange not sent');
    const r = new ByteReader(body, 'client_key_exchange');
    const point = r.opaque8('ecdh_Yc', 1);
    r.expectEnd();
    const premaster = pair.sharedSecret(point);
    pair.destroy();
    this.#pair = undefined;
    return premaster;
  }
}

export interface EcdheOptions {
  /** ECDH arithmetic: `nobleEcdh` (default, pure TypeScript) or `nodeEcdh` (node:crypto). */
  readonly ecdh?: EcdhBackend;
  /** ServerKeyExchange signature arithmetic: `nobleSignatures` (default) or node:crypto (x509/signature-node.ts). */
  readonly signatures?: SignatureBackend;
}

interface Backends {
  readonly ecdh: EcdhBackend;
  readonly signatures: SignatureBackend;
}

const backends = (opts: EcdheOptions): Backends => ({ ecdh: opts.ecdh ?? nobleEcdh, signatures: opts.signatures ?? nobleSignatures });

/** ECDHE_ECDSA (RFC 8422): certificates with EC keys, signed ServerKeyExchange. */
export function createEcdheEcdsa(opts: EcdheOptions = {}): KeyExchangeProvider {
  const backend = backends(opts);
  return Object.freeze({
    name: 'ECDHE_ECDSA',
    flow: ecdheFlow,
    client: (ctx: ClientKexContext): ClientKeyExchangeSession => new EcdheClientSession(ctx, backend, 'ec'),
    server: (ctx: ServerKexContext): ServerKeyExchangeSession => new EcdheServerSession(ctx, backend, 'ec'),
  } satisfies KeyExchangeProvider);
}

/**
 * ECDHE_RSA (RFC 8422 §2.2 / RFC 5246 §7.4.3): the same ECDHE, the ServerKeyExchange signed with
 * an RSA certificate key (PKCS#1 v1.5 or rsa_pss_rsae_*, whatever the client offered).
 */
export function createEcdheRsa(opts: EcdheOptions = {}): KeyExchangeProvider {
  const backend = backends(opts);
  return Object.freeze({
    name: 'ECDHE_RSA',
    flow: ecdheFlow,
    client: (ctx: ClientKexContext): ClientKeyExchangeSession => new EcdheClientSession(ctx, backend, 'rsa'),
    server: (ctx: ServerKexContext): ServerKeyExchangeSession => new EcdheServerSession(ctx, backend, 'rsa'),
  } satisfies KeyExchangeProvider);
}

export const ecdheEcdsa: KeyExchangeProvider = createEcdheEcdsa();
export const ecdheRsa: KeyExchangeProvider = createEcdheRsa();
