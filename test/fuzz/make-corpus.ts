/**
 * Regenerates test/fuzz/corpus/ (committed): `npx tsx test/fuzz/make-corpus.ts`.
 *
 * Sources, all in the repository:
 *  - test/vectors/tls-transcripts.json: live milagro-tls handshakes (MILAGRO_CS, MILAGRO_P2P):
 *    records, handshake messages, the ext-37 value, key-exchange bodies and their BNCX points;
 *  - test/vectors/openssl-client-hello.hex: a ClientHello captured from OpenSSL 3.0 s_client;
 *  - test/fixtures/certs/*.pem: every certificate as DER;
 *  - deterministic loopback handshakes of the engine-level targets' own configurations (full,
 *    resumed by ticket, mutual TLS), so their replays reach every state;
 *  - signed DTA requests (fixed key and clock) and relying-party bodies of every endpoint.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/codec/bytes.ts';
import { ByteReader } from '../../src/codec/reader.ts';
import { ByteWriter } from '../../src/codec/writer.ts';
import { bncx, encodeG1 } from '../../src/crypto/bncx/index.ts';
import { aeadProtection } from '../../src/record/protection.ts';
import { RecordLayer } from '../../src/record/record-layer.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { Aeads } from '../../src/suites.ts';
import { encodeSessionState } from '../../src/handshake/session/state.ts';
import { HandshakeReassembler } from '../../src/handshake/messages/handshake.ts';
import { decodeClientHello, encodeClientHello } from '../../src/handshake/messages/client-hello.ts';
import { decodeServerHello } from '../../src/handshake/messages/server-hello.ts';
import { encodeExtensions } from '../../src/handshake/messages/extensions/index.ts';
import { decodeCsExtension } from '../../src/kex/milagro/cs-wire.ts';
import { decodeP2pClientKeyExchange, decodeP2pServerKeyExchange } from '../../src/kex/milagro/p2p-wire.ts';
import { decodePem } from '../../src/x509/pem.ts';
import { signRequest, OPERATIONS } from '../../src/identity/auth.ts';
import { ENDPOINTS } from '../../src/web/protocol.ts';
import * as ldap from '../../src/ldap/messages.ts';
import { handshake } from '../handshake/helpers.ts';
import { CORPUS_DIR, saveSeed } from './corpus.ts';
import {
  DTA_CLOCK,
  RP_ENDPOINTS,
  clientEcdheConfig,
  clientMtlsConfig,
  fuzzEnrolmentKey,
  serverEcdheConfig,
  serverMtlsConfig,
} from './targets.ts';
import { seededRandom } from '../handshake/helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const seeds = new Map<string, Map<string, Uint8Array>>();

function add(target: string, label: string, bytes: Uint8Array): void {
  let t = seeds.get(target);
  if (t === undefined) seeds.set(target, (t = new Map()));
  // Identical inputs are kept once.
  for (const v of t.values()) if (bytesToHex(v) === bytesToHex(bytes)) return;
  t.set(label, bytes);
}

const messageTarget: Readonly<Record<number, string>> = {
  1: 'msg-client-hello',
  2: 'msg-server-hello',
  4: 'msg-new-session-ticket',
  11: 'msg-certificate',
  12: 'msg-server-key-exchange',
  13: 'msg-certificate-request',
  14: 'msg-server-hello-done',
  15: 'msg-certificate-verify',
  16: 'msg-client-key-exchange',
  20: 'msg-finished',
};

const extensionTarget: Readonly<Record<number, string>> = {
  0: 'ext-server-name',
  1: 'ext-max-fragment-length',
  10: 'ext-supported-groups',
  11: 'ext-ec-point-formats',
  13: 'ext-signature-algorithms',
  16: 'ext-alpn',
  23: 'ext-extended-master-secret',
  28: 'ext-record-size-limit',
  35: 'ext-session-ticket',
  37: 'milagro-cs-37',
  0xff01: 'ext-renegotiation-info',
};

/** Plaintext records of one direction's stream, up to its ChangeCipherSpec. */
function plainRecords(stream: Uint8Array): { type: number; data: Uint8Array; raw: Uint8Array }[] {
  const out: { type: number; data: Uint8Array; raw: Uint8Array }[] = [];
  for (let at = 0; at + 5 <= stream.length; ) {
    const type = stream[at] as number;
    const len = ((stream[at + 3] as number) << 8) | (stream[at + 4] as number);
    out.push({ type, data: stream.subarray(at + 5, at + 5 + len), raw: stream.subarray(at, at + 5 + len) });
    at += 5 + len;
    if (type === ContentType.change_cipher_spec) break;
  }
  return out;
}

/** Every handshake message of the plaintext part of `stream`, and the extension values inside. */
function harvest(stream: Uint8Array, label: string): void {
  const records = plainRecords(stream);
  const ra = new HandshakeReassembler();
  const handshakeBytes: Uint8Array[] = [];
  for (const [i, r] of records.entries()) {
    add('record-plain', `${label}-${i}`, r.raw);
    if (r.type !== ContentType.handshake) continue;
    handshakeBytes.push(r.data);
    ra.push(r.data);
    for (let msg = ra.next(); msg !== undefined; msg = ra.next()) {
      const target = messageTarget[msg.type];
      if (target !== undefined) add(target, `${label}-${msg.type}`, msg.body);
      if (msg.type === 1 || msg.type === 2) {
        const hello = msg.type === 1 ? decodeClientHello(new ByteReader(msg.body)) : decodeServerHello(new ByteReader(msg.body));
        const w = new ByteWriter();
        encodeExtensions(w, hello.extensions);
        add('msg-extensions', `${label}-${msg.type}`, w.finish());
        for (const e of hello.extensions) {
          const t = extensionTarget[e.type];
          if (t !== undefined) add(t, `${label}-${msg.type}-${e.type}`, e.data);
          if (e.type === 37) {
            const cs = decodeCsExtension(e.data);
            add('bncx-g1-point', `${label}-cs-point`, cs.point);
            add('bncx-g1-point', `${label}-cs-v`, cs.V);
          }
        }
      }
    }
  }
  if (handshakeBytes.length > 0) add('handshake-reassembler', label, concatBytes(...handshakeBytes));
}

// ---- recorded milagro-tls handshakes ----
interface Transcript {
  readonly name: string;
  readonly records: readonly { readonly direction: string; readonly record_hex: string; readonly encrypted: boolean; readonly plaintext_hex?: string }[];
}
const transcripts = (JSON.parse(readFileSync(join(root, 'test/vectors/tls-transcripts.json'), 'utf8')) as { transcripts: Transcript[] }).transcripts;
for (const t of transcripts) {
  for (const dir of ['client_to_server', 'server_to_client']) {
    const recs = t.records.filter((r) => r.direction === dir);
    const stream = concatBytes(...recs.map((r) => hexToBytes(r.record_hex)));
    harvest(stream, `${t.name}-${dir === 'client_to_server' ? 'c' : 's'}`);
    for (const [i, r] of recs.entries()) if (r.encrypted) add('record-aead', `${t.name}-${dir.slice(0, 1)}-${i}`, hexToBytes(r.record_hex));
  }
  // The client's whole stream drives the engine-level Milagro server targets (same keys, clock, randoms).
  if (t.name === 'cs_default') add('engine-server-milagro-cs', t.name, concatBytes(...t.records.filter((r) => r.direction === 'client_to_server').map((r) => hexToBytes(r.record_hex))));
  if (t.name === 'p2p_default') add('engine-server-milagro-p2p', t.name, concatBytes(...t.records.filter((r) => r.direction === 'client_to_server').map((r) => hexToBytes(r.record_hex))));
  if (t.name === 'cs_default') add('engine-client-milagro-cs', t.name, concatBytes(...t.records.filter((r) => r.direction === 'server_to_client').map((r) => hexToBytes(r.record_hex))));
  if (t.name === 'p2p_default') add('engine-client-milagro-p2p', t.name, concatBytes(...t.records.filter((r) => r.direction === 'server_to_client').map((r) => hexToBytes(r.record_hex))));
  // Key-exchange bodies and their points.
  const ra = new HandshakeReassembler();
  for (const r of t.records) {
    if (r.encrypted || !r.record_hex.startsWith('16')) continue;
    ra.push(hexToBytes(r.record_hex).subarray(5));
    for (let msg = ra.next(); msg !== undefined; msg = ra.next()) {
      const kex = t.name.startsWith('p2p') ? 'p2p' : 'cs';
      if (msg.type !== 12 && msg.type !== 16) continue;
      const body = msg.body;
      if (kex === 'cs') {
        add('milagro-cs-key-exchange', `${t.name}-${msg.type}`, concatBytes(body, Uint8Array.of(msg.type === 12 ? 1 : 0)));
        add('bncx-g1-point', `${t.name}-${msg.type}`, body.subarray(2));
      } else if (msg.type === 12) {
        add('milagro-p2p-server-key-exchange', t.name, body);
        add('bncx-g1-point', `${t.name}-PaG1`, decodeP2pServerKeyExchange(body).PaG1);
      } else {
        add('milagro-p2p-client-key-exchange', t.name, body);
        const v = decodeP2pClientKeyExchange(body);
        add('bncx-g1-point', `${t.name}-PgG1`, v.PgG1);
        add('bncx-g2-point', `${t.name}-PbG2`, v.PbG2);
      }
    }
  }
}

// ---- Finished bodies (encrypted on the wire; the transcripts carry the plaintexts) ----
for (const t of transcripts) {
  for (const r of t.records) {
    if (r.plaintext_hex?.startsWith('1400000c') === true) add('msg-finished', `${t.name}-${r.direction.slice(0, 1)}`, hexToBytes(r.plaintext_hex).subarray(4));
  }
}
// Extensions no recording carries: every legal value and the boundaries.
for (const code of [1, 2, 3, 4]) add('ext-max-fragment-length', `code-${code}`, Uint8Array.of(code));
for (const v of [64, 512, 16384, 16385]) add('ext-record-size-limit', `limit-${v}`, Uint8Array.of(v >>> 8, v & 0xff));

// A 64 KiB ClientHello body with 16,000 extensions (issue 11 §5: parsed in linear time).
{
  const w = new ByteWriter();
  encodeClientHello(w, {
    version: 0x0303,
    random: new Uint8Array(32).fill(9),
    sessionId: new Uint8Array(0),
    cipherSuites: [0xc02b, 0x00ff],
    compressionMethods: [0],
    extensions: [{ type: 10, data: Uint8Array.of(0, 2, 0, 29) }, ...Array.from({ length: 15_999 }, (_, i) => ({ type: 20_000 + i, data: new Uint8Array(0) }))],
  });
  add('msg-client-hello', 'sixteen-thousand-extensions', w.finish());
}

// ---- OpenSSL's ClientHello ----
const openssl = hexToBytes(readFileSync(join(root, 'test/vectors/openssl-client-hello.hex'), 'utf8').trim());
harvest(openssl, 'openssl-s_client');
add('engine-server-ecdhe', 'openssl-client-hello', openssl);
add('engine-server-mtls', 'openssl-client-hello', openssl);

// ---- certificates ----
const certDir = join(root, 'test/fixtures/certs');
for (const f of readdirSync(certDir).filter((n) => n.endsWith('.pem'))) {
  for (const [i, p] of decodePem(readFileSync(join(certDir, f), 'utf8')).entries()) {
    if (p.label === 'CERTIFICATE') add('x509-certificate', `${f.slice(0, -4)}-${i}`, p.der);
  }
}

// ---- records under the record-aead target's key (so mutations start from records that open) ----
{
  const w = new RecordLayer();
  w.setPendingWrite(aeadProtection(Aeads.aes128gcm, new Uint8Array(16).fill(5), new Uint8Array(4).fill(6), nobleAeadProvider));
  w.activateWrite();
  add(
    'record-aead',
    'own-key-stream',
    concatBytes(
      w.write(ContentType.handshake, hexToBytes('1400000c000102030405060708090a0b')),
      w.write(ContentType.application_data, new TextEncoder().encode('hello')),
      w.write(ContentType.alert, Uint8Array.of(1, 0)),
    ),
  );
}

// ---- deterministic engine handshakes (the engine targets' own configurations) ----
const joined = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts);
{
  const full = await handshake(clientEcdheConfig(), serverEcdheConfig());
  if (full.client.secure === undefined || full.server.secure === undefined) throw new Error('recording: full handshake failed');
  const c = joined(full.client.sent);
  const s = joined(full.server.sent);
  add('engine-server-ecdhe', 'full-ticket-alpn', c);
  add('engine-client-ecdhe', 'full-ticket-alpn', s);
  harvest(c, 'ecdhe-c');
  harvest(s, 'ecdhe-s');
  // Issue 11 §5 inputs: warnings interleaved with the records (a few are fine, 6 in a row are not).
  const warning = Uint8Array.of(21, 3, 1, 0, 2, 1, 90);
  add('engine-server-ecdhe', 'warnings-then-full', concatBytes(warning, warning, warning, warning, c));
  add('engine-server-ecdhe', 'six-warnings-refused', concatBytes(...Array.from({ length: 6 }, () => warning), c));
  const session = full.client.secure.session;
  if (session?.ticket === undefined) throw new Error('recording: no ticket');
  add('session-state', 'client-session', encodeSessionState(session));
  add('session-ticket-open', 'ticket', session.ticket);
  const resumed = await handshake(clientEcdheConfig({ session, random: seededRandom('client-resume') }), serverEcdheConfig());
  if (resumed.server.secure?.resumed !== true) throw new Error('recording: resumption failed');
  add('engine-server-ecdhe', 'resumed-by-ticket', joined(resumed.client.sent));
  harvest(joined(resumed.client.sent), 'resume-c');
  harvest(joined(resumed.server.sent), 'resume-s');

  const mtls = await handshake(clientMtlsConfig(), serverMtlsConfig());
  if (mtls.server.secure?.peerCertificates.length !== 1) throw new Error('recording: mTLS failed');
  add('engine-server-mtls', 'mutual', joined(mtls.client.sent));
  add('engine-client-mtls', 'mutual', joined(mtls.server.sent));
  harvest(joined(mtls.client.sent), 'mtls-c');
  harvest(joined(mtls.server.sent), 'mtls-s');
}

// ---- DTA requests ----
{
  const key = fuzzEnrolmentKey();
  const random = seededRandom('fuzz-dta-requests');
  const hashId = 'ab'.repeat(32);
  for (const op of OPERATIONS) {
    const params =
      op === 'server-secret' ? { op } : op === 'revoke' ? { op, hashId, reason: 'lost phone' } : op === 'time-permits' ? { op, hashId, fromDay: 20785, toDay: 20786 } : { op, hashId };
    const signed = signRequest(key, params, { clock: () => DTA_CLOCK, random });
    add('dta-signed-request', op, new TextEncoder().encode(JSON.stringify(signed)));
    add('dta-request-json', op, new TextEncoder().encode(signed.request));
  }
}

// ---- relying-party bodies ----
{
  const point = bytesToHex(encodeG1(bncx.G1.BASE));
  const id = 'someone@example.org';
  const bodies: Readonly<Record<string, unknown>> = {
    [ENDPOINTS.register]: { identity: id },
    [ENDPOINTS.permit]: { identity: id },
    [ENDPOINTS.pass]: { identity: id, u: point, ut: point, v: point, timeValue: Math.floor(DTA_CLOCK / 1000) },
    [ENDPOINTS.start]: { identity: id, u: point, ut: point },
    [ENDPOINTS.finish]: { challenge: '00'.repeat(16), v: point },
    [ENDPOINTS.signOut]: {},
    [ENDPOINTS.oobStart]: {},
    [ENDPOINTS.oobPoll]: { handle: '00'.repeat(16) },
    [ENDPOINTS.oobAuthenticate]: { accessNumber: '12345674', identity: id, u: point, ut: point, v: point, timeValue: Math.floor(DTA_CLOCK / 1000) },
  };
  for (const [i, e] of RP_ENDPOINTS.entries()) {
    add('rp-json-body', e.slice(1).replace(/\//g, '-'), concatBytes(Uint8Array.of(i), new TextEncoder().encode(JSON.stringify(bodies[e] ?? {}))));
  }
}

// LDAP proxy messages (issue 15): what clients send it, and what the directory answers.
{
  const dn = 'uid=alice,ou=people,dc=example,dc=org';
  add('ldap-message', 'bind-token', ldap.encodeBindRequest(1, dn, `mpin-token:${'A'.repeat(43)}`));
  add('ldap-message', 'bind-response', ldap.encodeBindResponse(1, 49, 'login token refused (replayed)'));
  add('ldap-message', 'search-request', ldap.encodeSearchRequest(2, { base: 'dc=example,dc=org', scope: 2, filter: { equals: ['mail', 'alice@example.org'] }, attributes: ['mail'] }));
  add('ldap-message', 'search-proxied-authz', ldap.appendControl(ldap.parseEnvelope(ldap.encodeSearchRequest(3, { base: dn, scope: 0, filter: { present: 'objectClass' }, attributes: [] })), ldap.proxiedAuthorizationControl(dn)));
  add('ldap-message', 'notice-of-disconnection', ldap.encodeNoticeOfDisconnection(2, 'malformed LDAP message'));
  add('ldap-message', 'starttls-request', hexToBytes('301d02010177188016312e332e362e312e342e312e313436362e3230303337'));
  add('ldap-message', 'search-entry', hexToBytes('304b020102644604257569643d616c6963652c6f753d70656f706c652c64633d6578616d706c652c64633d6f7267301d301b04046d61696c31130411616c696365406578616d706c652e6f7267'));
}

rmSync(CORPUS_DIR, { recursive: true, force: true });
let n = 0;
for (const [target, m] of [...seeds].sort(([a], [b]) => a.localeCompare(b))) {
  for (const [label, bytes] of m) {
    saveSeed(CORPUS_DIR, target, label.replace(/[^a-z0-9_.-]/gi, '_'), bytes);
    n++;
  }
  console.log(`${target}: ${m.size}`);
}
console.log(`${n} seeds in ${seeds.size} targets`);
