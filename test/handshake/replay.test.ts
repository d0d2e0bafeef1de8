/**
 * Replay (Go's recording/replaying connection, style.md §11): with injected randomness and time
 * the engine is deterministic, so bytes captured from one run, fed to a fresh engine with the
 * same seed, must produce byte-identical answers.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../src/codec/bytes.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { HandshakeType } from '../../src/handshake/messages/types.ts';
import { TlsEngine, type EngineEvents } from '../../src/handshake/engine.ts';
import { defaultClient, defaultServer, handshake, text } from './helpers.ts';
import { parseRecords, splitHandshake } from './wire-tools.ts';

function recorder(): { events: EngineEvents; out: Uint8Array[]; errors: Error[]; data: Uint8Array[] } {
  const out: Uint8Array[] = [];
  const errors: Error[] = [];
  const data: Uint8Array[] = [];
  return {
    out,
    errors,
    data,
    events: {
      onOutgoing: (b) => out.push(b),
      onData: (d) => data.push(d),
      onSecure: () => undefined,
      onKeylog: () => undefined,
      onPeerClose: () => undefined,
      onError: (e) => errors.push(e),
    },
  };
}

describe('deterministic replay of recorded handshakes', () => {
  it('a server fed the recorded client bytes answers byte for byte as in the recording', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    w.client.engine.write(text('recorded request'));
    await w.settle();
    expect(w.client.errors).toEqual([]);

    const r = recorder();
    const server = TlsEngine.server(defaultServer(), r.events);
    for (const chunk of w.client.sent) server.receive(chunk);
    await server.idle;
    expect(r.errors).toEqual([]);
    expect(bytesToHex(concatBytes(...r.out))).toBe(bytesToHex(concatBytes(...w.server.sent)));
    expect(new TextDecoder().decode(concatBytes(...r.data))).toBe('recorded request');
  });

  it('a client fed the recorded server bytes, one byte at a time, sends exactly the recorded bytes', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    const r = recorder();
    const client = TlsEngine.client(defaultClient(), r.events);
    client.start();
    for (const chunk of w.server.sent) for (const b of chunk) client.receive(new Uint8Array([b]));
    await client.idle;
    expect(r.errors).toEqual([]);
    expect(client.state).toBe('open');
    expect(bytesToHex(concatBytes(...r.out))).toBe(bytesToHex(concatBytes(...w.client.sent)));
  });

  it('the first ClientHello record carries version 0x0301 (as mbedTLS/OpenSSL send it), everything after 0x0303', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    const c = parseRecords(concatBytes(...w.client.sent));
    expect(c[0]?.version).toBe(0x0301);
    expect(splitHandshake(c[0]?.data ?? new Uint8Array())[0]?.type).toBe(HandshakeType.client_hello);
    for (const rec of c.slice(1)) expect(rec.version).toBe(0x0303);
    for (const rec of parseRecords(concatBytes(...w.server.sent))) expect(rec.version).toBe(0x0303);
    // Client second flight: ClientKeyExchange, then CCS, then the encrypted Finished.
    expect(c.slice(1).map((x) => x.type)).toEqual([ContentType.handshake, ContentType.change_cipher_spec, ContentType.handshake]);
  });

  it('the ClientHello offers the renegotiation SCSV, null compression, and the expected extensions', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    const hello = splitHandshake(parseRecords(concatBytes(...w.client.sent))[0]?.data ?? new Uint8Array())[0];
    const body = hello?.body ?? new Uint8Array();
    const suitesLen = ((body[35] as number) << 8) | (body[36] as number);
    const suites: number[] = [];
    for (let i = 0; i < suitesLen; i += 2) suites.push(((body[37 + i] as number) << 8) | (body[38 + i] as number));
    expect(suites).toEqual([...defaultClient().suites.map((x) => x.id), 0x00ff]);
    const compAt = 37 + suitesLen;
    expect([...body.subarray(compAt, compAt + 2)]).toEqual([1, 0]);
    const exts: number[] = [];
    let at = compAt + 4;
    while (at < body.length) {
      exts.push(((body[at] as number) << 8) | (body[at + 1] as number));
      at += 4 + (((body[at + 2] as number) << 8) | (body[at + 3] as number));
    }
    // server_name, supported_groups, ec_point_formats, signature_algorithms, extended_master_secret
    expect(exts).toEqual([0, 10, 11, 13, 23, 35]);
  });
});
