import { describe, expect, it } from 'vitest';
import { AlertDescription, DecodeError, PeerAlertError, TlsError } from '../../src/alerts.ts';
import { ByteWriter } from '../../src/codec/writer.ts';
import { encodeClientHello } from '../../src/handshake/messages/client-hello.ts';
import { encodeSupportedGroups } from '../../src/handshake/messages/extensions/supported-groups.ts';
import { encodeEcPointFormats } from '../../src/handshake/messages/extensions/ec-point-formats.ts';
import { encodeSignatureAlgorithms } from '../../src/handshake/messages/extensions/signature-algorithms.ts';
import { encodeRenegotiationInfo } from '../../src/handshake/messages/extensions/renegotiation-info.ts';
import { ExtensionType, HandshakeType, NamedGroup, type ClientHello, type Extension } from '../../src/handshake/messages/types.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { Suites } from '../../src/suites.ts';
import { supportedSchemes } from '../../src/x509/signature.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { defaultClient, defaultServer, wire, type Side } from './helpers.ts';
import { handshakeMsg, parseRecords, record, splitHandshake } from './wire-tools.ts';

const baseExtensions: readonly Extension[] = [
  { type: ExtensionType.supported_groups, data: encodeSupportedGroups([NamedGroup.x25519, NamedGroup.secp256r1]) },
  { type: ExtensionType.ec_point_formats, data: encodeEcPointFormats([0]) },
  { type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms(supportedSchemes()) },
];

function helloBody(over: Partial<ClientHello> = {}): Uint8Array {
  const w = new ByteWriter();
  encodeClientHello(w, {
    version: 0x0303,
    random: new Uint8Array(32).fill(7),
    sessionId: new Uint8Array(0),
    cipherSuites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.id, 0x00ff],
    compressionMethods: [0],
    extensions: baseExtensions,
    ...over,
  });
  return w.finish();
}

/** A server engine fed raw bytes; returns its side after processing. */
async function feedServer(bytes: Uint8Array, cfg = defaultServer()): Promise<Side> {
  const w = wire(defaultClient(), cfg);
  w.server.engine.receive(bytes);
  await w.server.engine.idle;
  return w.server;
}

function sentAlert(side: Side): { level: number; description: number } | undefined {
  const recs = parseRecords(concatBytes(...side.sent)).filter((r) => r.type === ContentType.alert);
  const a = recs.at(-1);
  return a === undefined ? undefined : { level: a.data[0] as number, description: a.data[1] as number };
}

function expectFatal(side: Side, alert: number, cls: new (...args: never[]) => Error = TlsError): void {
  expect(side.errors.length).toBe(1);
  expect(side.errors[0]).toBeInstanceOf(cls);
  expect((side.errors[0] as TlsError).alert).toBe(alert);
  expect(sentAlert(side)).toEqual({ level: 2, description: alert });
  expect(side.engine.state).toBe('failed');
}

describe('server: hostile ClientHellos (RFC 5246 §7.4.1.2)', () => {
  it('accepts a well-formed ClientHello and answers with its first flight', async () => {
    const s = await feedServer(record(22, handshakeMsg(HandshakeType.client_hello, helloBody()), 0x0301));
    expect(s.errors).toEqual([]);
    const recs = parseRecords(concatBytes(...s.sent));
    const types = recs.flatMap((r) => splitHandshake(r.data).map((m) => m.type));
    expect(types).toEqual([HandshakeType.server_hello, HandshakeType.certificate, HandshakeType.server_key_exchange, HandshakeType.server_hello_done]);
  });

  it('answers a client offering only TLS 1.0 with protocol_version', async () => {
    const s = await feedServer(record(22, handshakeMsg(1, helloBody({ version: 0x0301 })), 0x0301));
    expectFatal(s, AlertDescription.protocol_version);
  });

  it('answers a client with no suite in common with handshake_failure', async () => {
    const s = await feedServer(record(22, handshakeMsg(1, helloBody({ cipherSuites: [0x009c, 0x00ff] }))));
    expectFatal(s, AlertDescription.handshake_failure);
  });

  it('answers a client with no group in common with handshake_failure', async () => {
    const exts = [{ type: ExtensionType.supported_groups, data: encodeSupportedGroups([25]) }, ...baseExtensions.slice(1)];
    const s = await feedServer(record(22, handshakeMsg(1, helloBody({ extensions: exts }))));
    expectFatal(s, AlertDescription.handshake_failure);
  });

  it('rejects duplicate extensions with illegal_parameter', async () => {
    const exts = [...baseExtensions, baseExtensions[0] as Extension];
    const s = await feedServer(record(22, handshakeMsg(1, helloBody({ extensions: exts }))));
    expectFatal(s, AlertDescription.illegal_parameter);
  });

  it('rejects a ClientHello without null compression (illegal_parameter)', async () => {
    const s = await feedServer(record(22, handshakeMsg(1, helloBody({ compressionMethods: [1] }))));
    expectFatal(s, AlertDescription.illegal_parameter);
  });

  it('rejects a non-empty renegotiation_info on the initial handshake (RFC 5746 §3.6)', async () => {
    const exts = [...baseExtensions, { type: ExtensionType.renegotiation_info, data: encodeRenegotiationInfo(new Uint8Array(12)) }];
    const s = await feedServer(record(22, handshakeMsg(1, helloBody({ extensions: exts }))));
    expectFatal(s, AlertDescription.handshake_failure);
  });

  it('rejects every truncated ClientHello body with decode_error (except the one ending before the optional extensions)', async () => {
    const body = helloBody();
    const extStart = 2 + 32 + 1 + 2 + 4 + 1 + 1; // version, random, sid, suites, compression
    for (let n = 0; n < body.length; n++) {
      const s = await feedServer(record(22, handshakeMsg(1, body.subarray(0, n))));
      if (n === extStart) {
        // §7.4.1.2: the extensions block may be absent; this is a valid, extension-less hello.
        expect(s.errors, `prefix ${n}`).toEqual([]);
      } else {
        expect(s.errors[0], `prefix ${n}`).toBeInstanceOf(DecodeError);
        expect(sentAlert(s)).toEqual({ level: 2, description: AlertDescription.decode_error });
      }
    }
  });

  it('waits (no alert) while a ClientHello is incomplete: the peer stopped mid-message', async () => {
    const full = record(22, handshakeMsg(1, helloBody()));
    const s = await feedServer(full.subarray(0, full.length - 10));
    expect(s.errors).toEqual([]);
    expect(s.sent).toEqual([]);
    expect(s.engine.state).toBe('handshaking');
  });

  it('refuses handshake messages other than ClientHello first (unexpected_message)', async () => {
    for (const t of [HandshakeType.server_hello, HandshakeType.client_key_exchange, HandshakeType.finished, HandshakeType.certificate, 99]) {
      const s = await feedServer(record(22, handshakeMsg(t, new Uint8Array(4))));
      expectFatal(s, AlertDescription.unexpected_message);
    }
  });

  it('refuses ChangeCipherSpec and application data before the handshake (unexpected_message)', async () => {
    expectFatal(await feedServer(record(20, new Uint8Array([1]))), AlertDescription.unexpected_message);
    expectFatal(await feedServer(record(23, new Uint8Array([1, 2, 3]))), AlertDescription.unexpected_message);
  });

  it('refuses a ChangeCipherSpec that arrives inside a fragmented handshake message', async () => {
    const hello = handshakeMsg(1, helloBody());
    const s = await feedServer(concatBytes(record(22, hello.subarray(0, 20)), record(20, new Uint8Array([1]))));
    expectFatal(s, AlertDescription.unexpected_message);
  });

  it('answers bytes that are not TLS with a fatal alert and never throws', async () => {
    const s = await feedServer(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(s.errors[0]).toBeInstanceOf(TlsError);
    expect(s.engine.state).toBe('failed');
  });

  it('treats a received fatal alert as PeerAlertError and sends none back', async () => {
    const s = await feedServer(record(21, new Uint8Array([2, AlertDescription.handshake_failure])));
    expect(s.errors[0]).toBeInstanceOf(PeerAlertError);
    expect((s.errors[0] as PeerAlertError).alert).toBe(AlertDescription.handshake_failure);
    expect(s.sent).toEqual([]);
  });

  it('treats an always-fatal description sent at warning level as fatal (RFC 5246 §7.2.2)', async () => {
    const s = await feedServer(record(21, new Uint8Array([1, AlertDescription.handshake_failure])));
    expect(s.errors[0]).toBeInstanceOf(PeerAlertError);
    expect(s.sent).toEqual([]);
  });

  // The RFC names no alert for these; OpenSSL and GnuTLS answer unexpected_message (interop/alert-probes.ts).
  it('rejects malformed alert records (wrong length, unknown level) with unexpected_message', async () => {
    expectFatal(await feedServer(record(21, new Uint8Array([1, 0, 0]))), AlertDescription.unexpected_message);
    expectFatal(await feedServer(record(21, new Uint8Array([7, 0]))), AlertDescription.unexpected_message);
  });

  it('rejects a ChangeCipherSpec whose body is not the single byte 1 (unexpected_message)', async () => {
    expectFatal(await feedServer(record(20, new Uint8Array([2]))), AlertDescription.unexpected_message);
    expectFatal(await feedServer(record(20, new Uint8Array([1, 1]))), AlertDescription.unexpected_message);
  });

  it('ignores a warning alert other than close_notify', async () => {
    const s = await feedServer(concatBytes(record(21, new Uint8Array([1, AlertDescription.user_canceled])), record(22, handshakeMsg(1, helloBody()))));
    expect(s.errors).toEqual([]);
    expect(s.sent.length).toBe(1);
  });

  it('survives seeded random mutations of a ClientHello: only TlsError, never a crash', async () => {
    const good = record(22, handshakeMsg(1, helloBody()));
    let x = 0x12345678;
    const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0));
    for (let i = 0; i < 300; i++) {
      const m = good.slice();
      const flips = 1 + (rnd() % 4);
      for (let k = 0; k < flips; k++) m[5 + (rnd() % (m.length - 5))] = rnd() & 0xff;
      const s = await feedServer(m);
      for (const e of s.errors) expect(e instanceof TlsError, `iteration ${i}: ${String(e)}`).toBe(true);
    }
  });
});
