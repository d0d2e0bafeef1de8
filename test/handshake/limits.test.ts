/**
 * Issue 11 §2, engine level: bounded memory per connection before the handshake completes.
 * - A handshake message type the current state cannot accept is refused from its 4-byte header,
 *   before any of its (declared up to 16 MiB) body is buffered.
 * - Per-type size limits, checked from the header too (HelloRequest and ServerHelloDone are
 *   empty, Finished is short, a ClientHello may be as large as its encoding allows).
 * - Input that arrives while an asynchronous key-exchange step is pending is capped
 *   (`maxHandshakeBuffer`): past it, a fatal unexpected_message alert and the engine is dead.
 */
import { describe, expect, it } from 'vitest';
import { AlertDescription, DecodeError, TlsError, UnexpectedMessageError } from '../../src/alerts.ts';
import { DEFAULT_MAX_HANDSHAKE_BUFFER, HandshakeReassembler, messageSizeLimit } from '../../src/handshake/messages/handshake.ts';
import { HandshakeType } from '../../src/handshake/messages/types.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { Suites } from '../../src/suites.ts';
import { gatedFakeMilagro } from './fake-kex.ts';
import { defaultClient, defaultServer, wire, type Side } from './helpers.ts';
import { lastAlertRecord, record } from './wire-tools.ts';

function header(type: number, length: number): Uint8Array {
  return new Uint8Array([type, length >> 16, (length >> 8) & 0xff, length & 0xff]);
}

function expectFatal(side: Side, alert: number, cls: new (...args: never[]) => TlsError): void {
  expect(side.errors.length).toBe(1);
  expect(side.errors[0]).toBeInstanceOf(cls);
  expect((side.errors[0] as TlsError).alert).toBe(alert);
  expect(Array.from(lastAlertRecord(side)?.data ?? [])).toEqual([2, alert]);
  expect(side.engine.state).toBe('failed');
}

describe('handshake reassembly: type and size checked from the 4-byte header', () => {
  it('a Certificate header while the server expects a ClientHello is refused before its body arrives', async () => {
    const w = wire(defaultClient(), defaultServer());
    // Declares 200 KiB (under the Certificate limit); not one body byte follows.
    w.server.engine.receive(record(ContentType.handshake, header(HandshakeType.certificate, 200 * 1024)));
    await w.server.engine.idle;
    expectFatal(w.server, AlertDescription.unexpected_message, UnexpectedMessageError);
    expect(w.server.engine.bufferedInput).toBe(0);
  });

  it('a message type no state knows (e.g. 99) is refused from its header', async () => {
    const w = wire(defaultClient(), defaultServer());
    w.server.engine.receive(record(ContentType.handshake, header(99, 60_000)));
    await w.server.engine.idle;
    expectFatal(w.server, AlertDescription.unexpected_message, UnexpectedMessageError);
  });

  it('a HelloRequest declaring a body is refused from its header (client side)', async () => {
    const w = wire(defaultClient(), defaultServer());
    w.client.engine.start();
    w.client.engine.receive(record(ContentType.handshake, header(HandshakeType.hello_request, 60_000)));
    await w.client.engine.idle;
    expectFatal(w.client, AlertDescription.decode_error, DecodeError);
  });

  it('per-type limits: empty messages stay empty, Finished is short, Certificate 256 KiB, ClientHello as large as its encoding allows', () => {
    expect(messageSizeLimit(HandshakeType.hello_request)).toBe(0);
    expect(messageSizeLimit(HandshakeType.server_hello_done)).toBe(0);
    expect(messageSizeLimit(HandshakeType.finished)).toBeLessThanOrEqual(64);
    expect(messageSizeLimit(HandshakeType.certificate)).toBe(256 * 1024);
    // version, random, session_id<0..32>, cipher_suites<2..2^16-2>, compression<1..2^8-1>, extensions<0..2^16-1>
    expect(messageSizeLimit(HandshakeType.client_hello)).toBe(2 + 32 + 33 + 2 + 65534 + 1 + 255 + 2 + 65535);
    expect(messageSizeLimit(HandshakeType.server_key_exchange)).toBe(64 * 1024);
  });

  it('a ClientHello larger than 64 KiB is buffered (not refused from its header); one over its limit is', () => {
    const r = new HandshakeReassembler();
    const accept = (): void => undefined;
    const limit = messageSizeLimit(HandshakeType.client_hello);
    r.push(header(HandshakeType.client_hello, 100_000));
    r.push(new Uint8Array(50_000));
    expect(r.next(accept)).toBeUndefined();
    const over = new HandshakeReassembler();
    over.push(header(HandshakeType.client_hello, limit + 1));
    expect(() => over.next(accept)).toThrow(DecodeError);
  });
});

describe('input while an asynchronous key-exchange step is pending', () => {
  const suite = Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256;

  it('is capped: past maxHandshakeBuffer the server sends unexpected_message and stops buffering', async () => {
    const g = gatedFakeMilagro();
    const w = wire(defaultClient({ suites: [suite], kex: g.kex }), defaultServer({ suites: [suite], kex: g.kex }));
    w.client.engine.start();
    await w.client.engine.idle;
    for (const b of w.client.sent) w.server.engine.receive(b); // the ClientHello
    await g.entered; // the server's step is pending (and stays so)
    const chunk = new Uint8Array(16 * 1024).fill(0x17);
    let fed = 0;
    for (let i = 0; i < 100 && w.server.errors.length === 0; i++) {
      w.server.engine.receive(chunk);
      fed += chunk.length;
      expect(w.server.engine.bufferedInput).toBeLessThanOrEqual(DEFAULT_MAX_HANDSHAKE_BUFFER);
    }
    expectFatal(w.server, AlertDescription.unexpected_message, UnexpectedMessageError);
    expect(fed).toBeGreaterThan(DEFAULT_MAX_HANDSHAKE_BUFFER);
    expect(fed).toBeLessThanOrEqual(DEFAULT_MAX_HANDSHAKE_BUFFER + chunk.length);
    expect(w.server.engine.bufferedInput).toBe(0);
    g.open();
  });

  it('under the cap, queued input is processed in order once the step completes (and the engine reports it is waiting)', async () => {
    const g = gatedFakeMilagro();
    const w = wire(defaultClient({ suites: [suite], kex: g.kex }), defaultServer({ suites: [suite], kex: g.kex }));
    w.client.engine.start();
    const settled = w.settle();
    await g.entered;
    expect(w.server.engine.waiting).toBe(true);
    g.open();
    await settled;
    expect(w.server.engine.waiting).toBe(false);
    expect(w.server.errors).toEqual([]);
    expect(w.server.secure?.suite).toBe(suite);
  });
});
