/**
 * One fuzz target per network decoder (issue 11 §7). The property every target checks: the
 * decoder returns a value or throws the project's typed error for that layer — never a
 * TypeError/RangeError/other crash — and finishes in bounded time (the runner measures it).
 *
 *  - TLS bytes: TlsError (and PeerAlertError for a received fatal alert at engine level);
 *  - BNCX points: PointError (mapped to illegal_parameter by the key exchanges);
 *  - DTA request bodies: DtaRequestError; relying-party bodies: a 4xx JSON answer (never 500).
 *
 * Engine-level targets replay a recorded, deterministic handshake (seeded randoms on both sides),
 * so a mutated stream reaches every state: the decoders plus the state logic behind them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerAlertError, TlsError } from '../../src/alerts.ts';
import { ByteReader } from '../../src/codec/reader.ts';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { PointError, decodeG1, decodeG2 } from '../../src/crypto/bncx/index.ts';
import { TlsEngine, type EngineEvents } from '../../src/handshake/engine.ts';
import type { ClientEngineConfig, ServerEngineConfig } from '../../src/handshake/config.ts';
import { SessionStore } from '../../src/handshake/session/store.ts';
import { decodeSessionState } from '../../src/handshake/session/state.ts';
import * as m from '../../src/handshake/messages/index.ts';
import { HandshakeReassembler } from '../../src/handshake/messages/handshake.ts';
import { RequestVerifier, parseRequest, generateEnrolmentKey, OPERATIONS, type EnrolmentKey } from '../../src/identity/auth.ts';
import { DtaRequestError } from '../../src/identity/errors.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { MilagroCrypto } from '../../src/identity/milagro-crypto.ts';
import { decodeCsExtension, decodeCsKeyExchange } from '../../src/kex/milagro/cs-wire.ts';
import { decodeP2pClientKeyExchange, decodeP2pServerKeyExchange } from '../../src/kex/milagro/p2p-wire.ts';
import { aeadProtection } from '../../src/record/protection.ts';
import { RecordLayer } from '../../src/record/record-layer.ts';
import { Aeads, Suites } from '../../src/suites.ts';
import { parseCertificate } from '../../src/x509/certificate.ts';
import { BerError } from '../../src/ldap/ber.ts';
import {
  appendControl,
  decodeBindRequest,
  decodeExtendedRequestName,
  decodeLdapResult,
  decodeSearchResultEntry,
  LdapFramer,
  parseEnvelope,
  proxiedAuthorizationControl,
} from '../../src/ldap/messages.ts';
import { ENDPOINTS } from '../../src/web/protocol.ts';
import { RelyingParty, type RpRequest } from '../../src/web/server/relying-party.ts';
import { defaultClient, defaultServer, fixtureCerts, fixtureKey, seededRandom } from '../handshake/helpers.ts';
import { loadRecording, replayEngine, traceNumber } from '../replay/recording.ts';
import { milagroCs } from '../../src/kex/milagro-cs.ts';
import { milagroP2p } from '../../src/kex/milagro-p2p.ts';
import type { RandomSource } from '../../src/providers.ts';

export interface FuzzTarget {
  readonly name: string;
  /** Decode one input; return normally or throw an error `typed` accepts. */
  run(input: Uint8Array): void | Promise<void>;
  /** The error family this decoder is documented to throw. */
  typed(e: unknown): boolean;
  /** Longest random (non-seed) input worth generating. */
  readonly maxRandom?: number;
  /** `run` returns a Promise (engine and HTTP-level targets). */
  readonly async?: boolean;
  /** Share of a fuzzing round relative to a plain codec (1): the state machines get more. */
  readonly weight?: number;
}

const isTls = (e: unknown): boolean => e instanceof TlsError;

/** A codec reading a ByteReader; `expectEnd` as the engine does after each message. */
function message(name: string, decode: (r: ByteReader) => unknown): FuzzTarget {
  return {
    name: `msg-${name}`,
    run: (input) => {
      const r = new ByteReader(input, name);
      decode(r);
      r.expectEnd();
    },
    typed: isTls,
  };
}

function extension(name: string, decode: (data: Uint8Array) => unknown): FuzzTarget {
  return { name: `ext-${name}`, run: (input) => void decode(input), typed: isTls };
}

/** Feed `input` to the record layer in pieces whose sizes come from the input itself. */
function recordTarget(name: string, encrypted: boolean): FuzzTarget {
  const key = new Uint8Array(16).fill(5);
  const iv = new Uint8Array(4).fill(6);
  return {
    name,
    run: (input) => {
      const rl = new RecordLayer();
      if (encrypted) {
        rl.setPendingRead(aeadProtection(Aeads.aes128gcm, key, iv, nobleAeadProvider));
        rl.activateRead();
      }
      const step = 1 + ((input[0] ?? 0) % 97);
      for (let at = 0; at < input.length; at += step) {
        rl.push(input.subarray(at, at + step));
        while (rl.read() !== undefined);
      }
    },
    typed: isTls,
    maxRandom: 2048,
  };
}

const reassembler: FuzzTarget = {
  name: 'handshake-reassembler',
  run: (input) => {
    const r = new HandshakeReassembler();
    const step = 1 + ((input[0] ?? 0) % 61);
    for (let at = 0; at < input.length; at += step) {
      r.push(input.subarray(at, at + step));
      for (let msg = r.next(); msg !== undefined; msg = r.next()) m.decodeHandshake(msg.raw);
    }
  },
  typed: isTls,
};

/**
 * Drive a fresh engine (deterministic config) with `input` as the peer's byte stream, split into
 * chunks at the sizes the first byte picks. Errors reach `onError`; `receive` must never throw.
 */
async function driveEngine(make: (events: EngineEvents) => TlsEngine, input: Uint8Array): Promise<void> {
  let failure: unknown;
  const events: EngineEvents = {
    onOutgoing: () => {},
    onData: () => {},
    onSecure: () => {},
    onKeylog: () => {},
    onPeerClose: () => {},
    onError: (e) => {
      failure ??= e;
    },
  };
  const engine = make(events);
  engine.start();
  // Chunk sizes: whole stream, or pieces, chosen by the stream's last byte so seeds replay whole.
  const last = input.length === 0 ? 0 : (input[input.length - 1] as number);
  const step = last < 200 ? input.length : 1 + (last % 53);
  for (let at = 0; at < input.length && step > 0; at += step) {
    engine.receive(input.subarray(at, at + step));
    await engine.idle;
  }
  await engine.idle;
  if (failure !== undefined) throw failure;
}

const isEngineTyped = (e: unknown): boolean => e instanceof TlsError || e instanceof PeerAlertError;

/**
 * The recorded session's random values in order while the lengths match (so the recorded client
 * stream replays to the end), then seeded bytes: a mutated stream may take another path.
 */
function replayRandom(values: readonly Uint8Array[], seed: string): RandomSource & { readonly remaining: () => number } {
  const queue = [...values];
  const fallback = seededRandom(seed);
  const f: RandomSource = (n) => (queue[0]?.length === n ? (queue.shift() as Uint8Array).slice() : fallback(n));
  return Object.assign(f, { remaining: () => queue.length });
}

const csRecording = loadRecording('cs_default');
const p2pRecording = loadRecording('p2p_default');
const hex = (v: unknown): Uint8Array => (typeof v === 'string' ? hexToBytes(v) : new Uint8Array(0));

/** MILAGRO_CS server as in the cs_default recording (its key, time value and randoms), in-process pairing. */
function csServer(events: EngineEvents): TlsEngine {
  const rec = csRecording;
  const s = rec.milagro_values_from_amcl_call_trace.server;
  const random = replayRandom([hex(rec.debug_output_values.server_random), hex(rec.debug_output_values.session_id), hex(s['w'])], 'fuzz-cs');
  const provider = milagroCs({
    server: { serverSecret: hex(rec.key_files['CSServerKey']), timePermits: rec.build_config['MBEDTLS_TLS_MILAGRO_CS_TIME_PERMITS'] === true },
  });
  const time = traceNumber(rec, 'server', 'timevalue_used') * 1000 + 250;
  return replayEngine('server', Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256, provider, random, () => time, events);
}

/** MILAGRO_P2P server as in the p2p_default recording. */
function p2pServer(events: EngineEvents): TlsEngine {
  const rec = p2pRecording;
  const trace = rec.milagro_values_from_amcl_call_trace as unknown as { readonly server_sender: Record<string, unknown> };
  const random = replayRandom([hex(rec.debug_output_values.server_random), hex(rec.debug_output_values.session_id), hex(trace.server_sender['x'])], 'fuzz-p2p');
  const provider = milagroP2p({ server: { identity: 'server.miracl.com', senderKey: hex(rec.key_files['P2PServerKey']) } });
  return replayEngine('server', Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256, provider, random, () => Date.UTC(2026, 10, 28, 4, 0, 0), events);
}

const ticketKeys = new Uint8Array(48).fill(0x42);

export function serverEcdheConfig(): ServerEngineConfig {
  return defaultServer({
    sessionStore: new SessionStore({ random: seededRandom('fuzz-store'), clock: () => Date.UTC(2026, 10, 28, 4, 0, 0), ticketKeys }),
    alpnProtocols: ['h2', 'http/1.1'],
  });
}

export function serverMtlsConfig(): ServerEngineConfig {
  return defaultServer({ requestCert: true, rejectUnauthorized: false, ca: fixtureCerts('ca-ec.pem') });
}

export function clientEcdheConfig(over: Partial<ClientEngineConfig> = {}): ClientEngineConfig {
  return defaultClient({ alpnProtocols: ['http/1.1'], ...over });
}

export function clientMtlsConfig(): ClientEngineConfig {
  return defaultClient({ certificateChain: fixtureCerts('client-only.pem'), privateKey: fixtureKey('client-only.key') });
}

function engineTarget(name: string, make: (events: EngineEvents) => TlsEngine): FuzzTarget {
  // Pairings make the Milagro engines slow per input; they get less of a round than ECDHE's.
  return { name, run: (input) => driveEngine(make, input), typed: isEngineTyped, maxRandom: 1024, async: true, weight: name.includes('milagro') ? 2 : 4 };
}

const mc = new MilagroCrypto();

/** The DTA's request handling after the body was read: JSON.parse (→ bad_json) then the verifier. */
function dtaTarget(key: EnrolmentKey, clock: () => number): FuzzTarget {
  const trusted = [bytesToHex(key.publicKey)];
  return {
    name: 'dta-signed-request',
    run: (input) => {
      // A fresh verifier each time: remembered nonces would make replays of a seed differ.
      const v = new RequestVerifier({ trustedKeys: trusted, clock });
      const text = Buffer.from(input).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new DtaRequestError(400, 'bad_json', 'the body is not valid JSON');
      }
      // The route's op: the one the request names when it names a valid one (so seeds get past
      // the wrong_operation check into the lifetime and nonce checks), else client-secret.
      const named = /"op":"([a-z-]+)"/.exec(text)?.[1];
      const op = OPERATIONS.find((o) => o === named) ?? 'client-secret';
      v.verify(body, op);
    },
    typed: (e) => e instanceof DtaRequestError,
  };
}

const dtaInner: FuzzTarget = {
  name: 'dta-request-json',
  run: (input) => void parseRequest(Buffer.from(input).toString('utf8')),
  typed: (e) => e instanceof DtaRequestError,
};

/** POST endpoints of the relying party, chosen by the first input byte; the rest is the body. */
export const RP_ENDPOINTS = [
  ENDPOINTS.register,
  ENDPOINTS.permit,
  ENDPOINTS.pass,
  ENDPOINTS.start,
  ENDPOINTS.finish,
  ENDPOINTS.signOut,
  ENDPOINTS.oobStart,
  ENDPOINTS.oobPoll,
  ENDPOINTS.oobAuthenticate,
] as const;

class RpStatusError extends Error {}

async function rpTarget(rp: RelyingParty): Promise<FuzzTarget> {
  const base = { url: `${rp.prefix}${ENDPOINTS.session}`, headers: { host: '127.0.0.1' }, body: new Uint8Array(0), remoteAddress: '127.0.0.1', secure: true };
  const first = await rp.handle({ method: 'GET', ...base });
  const csrf = (JSON.parse(first.body) as { csrf: string }).csrf;
  const cookies = [first.headers['set-cookie'] ?? []].flat().map((c) => c.split(';', 1)[0]).join('; ');
  return {
    name: 'rp-json-body',
    run: async (input) => {
      const endpoint = RP_ENDPOINTS[(input[0] ?? 0) % RP_ENDPOINTS.length] ?? ENDPOINTS.register;
      const req: RpRequest = {
        method: 'POST',
        url: `${rp.prefix}${endpoint}`,
        headers: { host: 'rp.example', origin: 'https://rp.example', 'content-type': 'application/json', cookie: cookies, 'x-csrf-token': csrf },
        body: input.subarray(1),
        remoteAddress: '127.0.0.1',
        secure: true,
      };
      const res = await rp.handle(req);
      // 5xx means an exception escaped the validation (or a DTA failed, which the fixture's do not).
      if (res.status >= 500) throw new RpStatusError(`${endpoint} answered ${res.status}: ${res.body}`);
      JSON.parse(res.body);
    },
    // Every refusal is a 4xx JSON answer, so nothing may throw here.
    typed: () => false,
    maxRandom: 1024,
    async: true,
  };
}

/** MILAGRO_CS client as in the cs_default recording (identity, token, PIN, permit, randoms). */
function csClient(events: EngineEvents): TlsEngine {
  const rec = csRecording;
  const c = rec.milagro_values_from_amcl_call_trace.client;
  const random = replayRandom([hex(rec.debug_output_values.client_random), hex(c['x']), hex(c['r'])], 'fuzz-cs-client');
  const permit = c['time_permit_in'];
  const provider = milagroCs({
    client: {
      identity: 'client@miracl.com',
      token: hex(rec.key_files['CSClientKey']),
      pin: traceNumber(rec, 'client', 'pin'),
      ...(typeof permit === 'string' ? { timePermit: hexToBytes(permit), date: traceNumber(rec, 'client', 'date') } : {}),
    },
  });
  const time = traceNumber(rec, 'client', 'timevalue') * 1000 + 250;
  return replayEngine('client', Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256, provider, random, () => time, events);
}

/** MILAGRO_P2P client as in the p2p_default recording. */
function p2pClient(events: EngineEvents): TlsEngine {
  const rec = p2pRecording;
  const trace = rec.milagro_values_from_amcl_call_trace as unknown as { readonly client_receiver: Record<string, unknown> };
  const random = replayRandom([hex(rec.debug_output_values.client_random), hex(trace.client_receiver['w']), hex(trace.client_receiver['y'])], 'fuzz-p2p-client');
  const provider = milagroP2p({ client: { identity: 'client@miracl.com', receiverKey: hex(rec.key_files['P2PClientKey']), serverIdentity: 'server.miracl.com' } });
  return replayEngine('client', Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256, provider, random, () => Date.UTC(2026, 10, 28, 4, 0, 0), events);
}

/** The engine-level targets: a fresh, deterministic engine per input. */
export const ENGINES: Readonly<Record<string, (events: EngineEvents) => TlsEngine>> = {
  'engine-server-ecdhe': (ev) => TlsEngine.server(serverEcdheConfig(), ev),
  'engine-server-mtls': (ev) => TlsEngine.server(serverMtlsConfig(), ev),
  'engine-client-ecdhe': (ev) => TlsEngine.client(clientEcdheConfig(), ev),
  'engine-client-mtls': (ev) => TlsEngine.client(clientMtlsConfig(), ev),
  'engine-server-milagro-cs': csServer,
  'engine-server-milagro-p2p': p2pServer,
  'engine-client-milagro-cs': csClient,
  'engine-client-milagro-p2p': p2pClient,
};

/**
 * The LDAP proxy's message layer (issue 15): a client's byte stream cut into LDAPMessages, each
 * checked and split, then every decoder the proxy applies, and a control appended. BerError only.
 */
const ldapMessage: FuzzTarget = {
  name: 'ldap-message',
  run: (input) => {
    for (const raw of new LdapFramer(64 * 1024).push(input)) {
      const env = parseEnvelope(raw);
      for (const decode of [decodeBindRequest, decodeLdapResult, decodeSearchResultEntry, decodeExtendedRequestName]) {
        try {
          decode(env);
        } catch (e) {
          if (!(e instanceof BerError)) throw e;
        }
      }
      appendControl(env, proxiedAuthorizationControl('uid=fuzz'));
    }
  },
  typed: (e) => e instanceof BerError,
};

export interface TargetSet {
  readonly targets: readonly FuzzTarget[];
  close(): Promise<void>;
}

export interface TargetOptions {
  /** Include the relying-party target (starts one DTA on loopback). Default true. */
  readonly web?: boolean;
  readonly only?: (name: string) => boolean;
}

/** The enrolment key the DTA seeds were signed with (deterministic, see make-corpus.ts). */
export function fuzzEnrolmentKey(): EnrolmentKey {
  return generateEnrolmentKey(seededRandom('fuzz-enrolment'));
}

/** Seeds of the DTA target are signed for this instant; the verifier's clock stays there. */
export const DTA_CLOCK = Date.UTC(2026, 10, 28, 4, 0, 0);

export async function createTargets(o: TargetOptions = {}): Promise<TargetSet> {
  const only = o.only ?? (() => true);
  const all: FuzzTarget[] = [
    recordTarget('record-plain', false),
    recordTarget('record-aead', true),
    reassembler,
    message('client-hello', m.decodeClientHello),
    message('server-hello', m.decodeServerHello),
    message('certificate', m.decodeCertificate),
    message('server-key-exchange', m.decodeServerKeyExchange),
    message('certificate-request', m.decodeCertificateRequest),
    message('server-hello-done', m.decodeServerHelloDone),
    message('client-key-exchange', m.decodeClientKeyExchange),
    message('certificate-verify', m.decodeCertificateVerify),
    message('finished', m.decodeFinished),
    message('new-session-ticket', m.decodeNewSessionTicket),
    message('extensions', m.decodeExtensions),
    extension('server-name', m.decodeServerName),
    extension('supported-groups', m.decodeSupportedGroups),
    extension('ec-point-formats', m.decodeEcPointFormats),
    extension('signature-algorithms', m.decodeSignatureAlgorithms),
    extension('alpn', m.decodeAlpn),
    extension('extended-master-secret', m.decodeExtendedMasterSecret),
    extension('renegotiation-info', m.decodeRenegotiationInfo),
    extension('max-fragment-length', m.decodeMaxFragmentLength),
    extension('record-size-limit', m.decodeRecordSizeLimit),
    extension('session-ticket', m.decodeSessionTicket),
    { name: 'milagro-cs-37', run: (input) => void decodeCsExtension(input), typed: isTls },
    {
      name: 'milagro-cs-key-exchange',
      run: (input) => {
        decodeCsKeyExchange(input, (input[input.length - 1] ?? 0) & 1 ? 'server_key_exchange' : 'client_key_exchange');
      },
      typed: isTls,
    },
    { name: 'milagro-p2p-server-key-exchange', run: (input) => void decodeP2pServerKeyExchange(input), typed: isTls },
    { name: 'milagro-p2p-client-key-exchange', run: (input) => void decodeP2pClientKeyExchange(input), typed: isTls },
    { name: 'bncx-g1-point', run: (input) => void decodeG1(input), typed: (e) => e instanceof PointError },
    { name: 'bncx-g2-point', run: (input) => void decodeG2(input), typed: (e) => e instanceof PointError },
    { name: 'x509-certificate', run: (input) => void parseCertificate(input), typed: isTls, maxRandom: 2048 },
    {
      name: 'session-state',
      run: (input) => {
        decodeSessionState(input);
      },
      typed: isTls,
    },
    {
      name: 'session-ticket-open',
      run: (input) => {
        // Tickets are opened, never trusted: any bytes → a state or undefined, nothing thrown.
        new SessionStore({ random: seededRandom('t'), clock: () => DTA_CLOCK, ticketKeys }).open(input);
      },
      typed: () => false,
    },
    ...Object.entries(ENGINES).map(([name, make]) => engineTarget(name, make)),
    dtaTarget(fuzzEnrolmentKey(), () => DTA_CLOCK),
    dtaInner,
    ldapMessage,
  ];
  const targets = all.filter((t) => only(t.name));

  const closers: (() => Promise<void>)[] = [];
  if (o.web !== false && only('rp-json-body')) {
    const dir = await mkdtemp(join(tmpdir(), 'milagro-fuzz-dta-'));
    const key = fuzzEnrolmentKey();
    const dta = await DtaService.open({ dataDir: dir, crypto: mc, trustedKeys: [bytesToHex(key.publicKey)], random: seededRandom('fuzz-dta') });
    const port = await dta.listen(0);
    closers.push(async () => {
      await dta.close();
      await rm(dir, { recursive: true, force: true });
    });
    const rp = await RelyingParty.create({
      dtas: [`http://127.0.0.1:${port}`],
      enrolmentKey: key,
      origins: ['https://rp.example'],
      rateLimits: { perAddress: { burst: 1e9, perMinute: 1e9 }, perIdentity: { burst: 1e9, perMinute: 1e9 } },
      random: seededRandom('fuzz-rp'),
    });
    targets.push(await rpTarget(rp));
  }
  return {
    targets,
    close: async () => {
      for (const c of closers) await c();
    },
  };
}
