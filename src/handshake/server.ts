/**
 * The TLS 1.2 server handshake (RFC 5246 §7.3) as typed states (style.md §5). We never request a
 * client certificate, so after our first flight only ClientKeyExchange, ChangeCipherSpec and
 * Finished are accepted.
 */
import { HandshakeFailureError, IllegalParameterError, ProtocolVersionError } from '../alerts.ts';
import { ByteReader } from '../codec/reader.ts';
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, type CipherSuite, type KexName } from '../suites.ts';
import type { KexFlow, ServerKexSelection, ServerKeyExchangeSession } from '../kex/key-exchange.ts';
import type { ServerEngineConfig } from './config.ts';
import { serverExpects, type ServerStateName } from './flows.ts';
import {
  TLS12,
  Traffic,
  encodeBody,
  establishKeys,
  finishedData,
  sendFinished,
  andThen,
  verifyPeerFinished,
  type HandshakeInfo,
  type HandshakeIo,
  type MaybePromise,
  type Secrets,
  type State,
  type Step,
} from './common.ts';
import { decodeClientHello } from './messages/client-hello.ts';
import { encodeServerHello } from './messages/server-hello.ts';
import { encodeCertificate } from './messages/certificate.ts';
import { encodeServerKeyExchange } from './messages/server-key-exchange.ts';
import { encodeServerHelloDone } from './messages/server-hello-done.ts';
import { decodeClientKeyExchange } from './messages/client-key-exchange.ts';
import { findExtension } from './messages/extensions/index.ts';
import { decodeServerName } from './messages/extensions/server-name.ts';
import { decodeExtendedMasterSecret, encodeExtendedMasterSecret } from './messages/extensions/extended-master-secret.ts';
import { decodeRenegotiationInfo, encodeRenegotiationInfo } from './messages/extensions/renegotiation-info.ts';
import { ExtensionType, HandshakeType, type ClientHello, type Extension, type HandshakeMessage } from './messages/types.ts';

interface Negotiated {
  readonly config: ServerEngineConfig;
  readonly suite: CipherSuite;
  readonly flow: KexFlow;
  readonly session: ServerKeyExchangeSession;
  readonly selection: ServerKexSelection;
  readonly ems: boolean;
  readonly servername: string | undefined;
  readonly sessionId: Uint8Array;
}

abstract class ServerState implements State {
  abstract readonly name: ServerStateName;
  abstract handle(msg: HandshakeMessage, io: HandshakeIo): Step;
  protected abstract readonly flow: KexFlow | undefined;
  get expects(): readonly number[] {
    return serverExpects(this.name, this.flow);
  }
}

export function startServer(config: ServerEngineConfig): State {
  return new ExpectClientHello(config);
}

export class ExpectClientHello extends ServerState {
  readonly name = 'ExpectClientHello';
  protected readonly flow = undefined;
  readonly #config: ServerEngineConfig;

  constructor(config: ServerEngineConfig) {
    super();
    this.#config = config;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    const config = this.#config;
    const ch = decodeClientHello(new ByteReader(msg.body, 'client_hello'));
    io.transcript.add(msg.raw);
    // RFC 5246 App. E.1: a client whose highest version is below TLS 1.2 cannot talk to us.
    if (ch.version < TLS12) throw new ProtocolVersionError(`client offers at most version 0x${ch.version.toString(16)}`);
    // RFC 5246 §7.4.1.2: the null method MUST be offered; we never compress.
    if (!ch.compressionMethods.includes(0)) throw new IllegalParameterError('client does not offer null compression');

    // RFC 5746 §3.6: SCSV or an empty renegotiation_info signals support; non-empty → abort.
    const ri = findExtension(ch.extensions, ExtensionType.renegotiation_info);
    if (ri !== undefined && decodeRenegotiationInfo(ri.data).length !== 0) {
      throw new HandshakeFailureError('renegotiation_info not empty on the initial handshake');
    }
    const secureRenegotiation = ri !== undefined || ch.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    const emsExt = findExtension(ch.extensions, ExtensionType.extended_master_secret);
    if (emsExt !== undefined) decodeExtendedMasterSecret(emsExt.data);
    const ems = emsExt !== undefined && config.extendedMasterSecret !== false;
    const sni = findExtension(ch.extensions, ExtensionType.server_name);
    const servername = sni === undefined ? undefined : decodeServerName(sni.data);

    return andThen(selectSuite(config, ch), ({ suite, session }) => {
      const provider = config.kex.get(suite.kex);
      if (provider === undefined) throw new TypeError(`no provider for ${suite.kex}`);
      const serverRandom = config.random(32);
      const sessionId = config.random(32);
      const sel: ServerKexSelection = { suite, clientHello: ch, clientRandom: ch.random, serverRandom };
      const extensions: Extension[] = [];
      if (secureRenegotiation) extensions.push({ type: ExtensionType.renegotiation_info, data: encodeRenegotiationInfo() });
      if (ems) extensions.push({ type: ExtensionType.extended_master_secret, data: encodeExtendedMasterSecret() });
      for (const e of session.serverHelloExtensions?.() ?? []) extensions.push(e);

      io.transcript.setHash(suite.prfHash);
      io.setRecordVersion(TLS12, TLS12);
      io.sendHandshake(
        HandshakeType.server_hello,
        encodeBody((w) =>
          encodeServerHello(w, { version: TLS12, random: serverRandom, sessionId, cipherSuite: suite.id, compressionMethod: 0, extensions }),
        ),
      );
      const flow = provider.flow;
      if (flow.serverCertificate) {
        const chain = config.certificateChain ?? [];
        if (chain.length === 0) throw new HandshakeFailureError('server: suite needs a certificate but none is configured');
        io.sendHandshake(HandshakeType.certificate, encodeBody((w) => encodeCertificate(w, { certificates: chain.map((c) => c.raw) })));
      }
      const n: Negotiated = { config, suite, flow, session, selection: sel, ems, servername, sessionId };
      const ske: MaybePromise<Uint8Array | undefined> = flow.serverKeyExchange ? session.serverKeyExchange(sel) : undefined;
      return andThen(ske, (body) => {
        if (body !== undefined) io.sendHandshake(HandshakeType.server_key_exchange, encodeBody((w) => encodeServerKeyExchange(w, { body })));
        io.sendHandshake(HandshakeType.server_hello_done, encodeBody((w) => encodeServerHelloDone(w)));
        io.flush();
        return new ExpectClientKeyExchange(n);
      });
    });
  }
}

/**
 * Server preference order (like mbedTLS's default): the first of our suites that the client
 * offers and whose key exchange accepts this client. Each key exchange is asked once.
 */
function selectSuite(config: ServerEngineConfig, ch: ClientHello): MaybePromise<{ suite: CipherSuite; session: ServerKeyExchangeSession }> {
  const candidates = config.suites.filter((s) => ch.cipherSuites.includes(s.id) && config.kex.supports(s));
  const sessions = new Map<KexName, ServerKeyExchangeSession>();
  const verdicts = new Map<KexName, boolean>();
  const step = (i: number): MaybePromise<{ suite: CipherSuite; session: ServerKeyExchangeSession }> => {
    const suite = candidates[i];
    if (suite === undefined) throw new HandshakeFailureError('no cipher suite in common');
    const provider = config.kex.get(suite.kex);
    if (provider === undefined) return step(i + 1);
    let session = sessions.get(suite.kex);
    if (session === undefined) {
      session = provider.server({
        groups: config.groups,
        certificateChain: config.certificateChain,
        privateKey: config.privateKey,
        random: config.random,
        clock: config.clock,
      });
      sessions.set(suite.kex, session);
    }
    const s = session;
    const known = verdicts.get(suite.kex);
    const verdict = known ?? s.acceptClient(ch);
    return andThen(verdict, (ok) => {
      verdicts.set(suite.kex, ok);
      return ok ? { suite, session: s } : step(i + 1);
    });
  };
  return step(0);
}

export class ExpectClientKeyExchange extends ServerState {
  readonly name = 'ExpectClientKeyExchange';
  readonly #n: Negotiated;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated) {
    super();
    this.#n = n;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    const n = this.#n;
    const { body } = decodeClientKeyExchange(new ByteReader(msg.body, 'client_key_exchange'));
    io.transcript.add(msg.raw);
    // RFC 7627 §3: session_hash through ClientKeyExchange (no client CertificateVerify here).
    const sessionHash = n.ems ? io.transcript.current() : undefined;
    return andThen(n.session.processClientKeyExchange(body, n.selection), (premaster) => {
      const secrets = establishKeys(
        io,
        'server',
        n.suite,
        premaster,
        n.selection.clientRandom,
        n.selection.serverRandom,
        sessionHash,
        n.config.aeadProvider,
      );
      return new ExpectChangeCipherSpec(n, secrets);
    });
  }
}

export class ExpectChangeCipherSpec extends ServerState {
  readonly name = 'ExpectChangeCipherSpec';
  readonly #n: Negotiated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated, secrets: Secrets) {
    super();
    this.#n = n;
    this.#secrets = secrets;
  }

  handle(): never {
    throw new TypeError('ExpectChangeCipherSpec accepts no handshake message');
  }

  handleChangeCipherSpec(io: HandshakeIo): State {
    io.activateRead();
    return new ExpectFinished(this.#n, this.#secrets);
  }
}

export class ExpectFinished extends ServerState {
  readonly name = 'ExpectFinished';
  readonly #n: Negotiated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated, secrets: Secrets) {
    super();
    this.#n = n;
    this.#secrets = secrets;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const n = this.#n;
    const proof = verifyPeerFinished(msg, finishedData(this.#secrets, 'client finished', io.transcript.current()));
    io.transcript.add(msg.raw);
    io.sendChangeCipherSpec();
    sendFinished(io, this.#secrets, 'server finished');
    io.flush();
    const info: HandshakeInfo = {
      suite: n.suite,
      protocol: 'TLSv1.2',
      ...(n.session.group === undefined ? {} : { group: n.session.group }),
      ...(n.servername === undefined ? {} : { servername: n.servername }),
      extendedMasterSecret: n.ems,
      peerCertificates: [],
      // We do not request client certificates; a Milagro client is authenticated by its key
      // exchange plus the Finished just verified (milagro.md §7.7).
      authorized: n.session.peerIdentity !== undefined,
      ...(n.session.peerIdentity === undefined ? {} : { peerIdentity: n.session.peerIdentity }),
      sessionId: n.sessionId,
    };
    const traffic = new Traffic('server', info, proof);
    io.secure(info);
    return traffic;
  }
}
