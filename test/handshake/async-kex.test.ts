import { describe, expect, it } from 'vitest';
import { AlertDescription, TlsError } from '../../src/alerts.ts';
import { defaultKexRegistry } from '../../src/kex/registry.ts';
import { Suites } from '../../src/suites.ts';
import { HandshakeType } from '../../src/handshake/messages/types.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { defaultClient, defaultServer, handshake, text, untext, concat, wire } from './helpers.ts';
import { fakeMilagro } from './fake-kex.ts';
import { parseRecords, splitHandshake } from './wire-tools.ts';

const milagroSuite = Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256;
const ecdheSuite = Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;

describe('a Milagro-shaped, fully asynchronous key exchange through the engine', () => {
  it('completes without Certificate messages, carries the peer identity, and keeps records in order', async () => {
    const log: string[] = [];
    const kex = defaultKexRegistry().withProvider(fakeMilagro({ log, allowed: 'alice' }));
    const w = await handshake(defaultClient({ suites: [milagroSuite], kex }), defaultServer({ suites: [milagroSuite], kex }));
    expect(w.client.errors).toEqual([]);
    expect(w.server.errors).toEqual([]);
    expect(log).toEqual(['client:hello-ext', 'server:accept', 'server:ske', 'client:ske', 'client:cke', 'server:cke']);
    const serverTypes = parseRecords(concatBytes(...w.server.sent))
      .filter((r) => r.type === 22)
      .slice(0, 1)
      .flatMap((r) => splitHandshake(r.data).map((m) => m.type));
    expect(serverTypes).toEqual([HandshakeType.server_hello, HandshakeType.server_key_exchange, HandshakeType.server_hello_done]);
    expect(w.client.secure?.peerCertificates).toEqual([]);
    expect(w.client.secure?.authorized).toBe(true);
    expect(w.server.secure?.peerIdentity?.identity).toBe('alice');
    expect(w.server.secure?.authorized).toBe(true);
    expect(w.client.secure?.peerIdentity?.kind).toBe('wcc');
    // The client's CKE, CCS and Finished arrive in one chunk while processClientKeyExchange is pending.
    w.client.engine.write(text('ping'));
    await w.settle();
    expect(untext(concat(w.server.data))).toBe('ping');
  });

  it('the server falls back to its next suite when the kex declines the client', async () => {
    const kex = defaultKexRegistry().withProvider(fakeMilagro({ allowed: 'alice', identity: 'mallory', declineUnknown: true }));
    const w = await handshake(
      defaultClient({ suites: [milagroSuite, ecdheSuite], kex }),
      defaultServer({ suites: [milagroSuite, ecdheSuite], kex }),
    );
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.suite).toBe(ecdheSuite);
  });

  it('a kex that throws during acceptance aborts with its alert (access_denied)', async () => {
    const kex = defaultKexRegistry().withProvider(fakeMilagro({ allowed: 'alice', identity: 'mallory' }));
    const w = await handshake(defaultClient({ suites: [milagroSuite], kex }), defaultServer({ suites: [milagroSuite], kex }));
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError).alert).toBe(AlertDescription.access_denied);
    expect(w.client.engine.state).toBe('failed');
  });

  it('a client offering the kex to a server without it negotiates ECDHE instead; the extension is not echoed', async () => {
    const kex = defaultKexRegistry().withProvider(fakeMilagro());
    const w = await handshake(defaultClient({ suites: [milagroSuite, ecdheSuite], kex }), defaultServer());
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.suite).toBe(ecdheSuite);
  });

  it('a non-TlsError thrown by a kex becomes internal_error', async () => {
    const base = fakeMilagro();
    const broken = { ...base, server: (ctx: Parameters<typeof base.server>[0]) => ({ ...base.server(ctx), acceptClient: () => Promise.reject(new RangeError('boom')) }) };
    const kex = defaultKexRegistry().withProvider(broken);
    const w = await handshake(defaultClient({ suites: [milagroSuite], kex }), defaultServer({ suites: [milagroSuite], kex }));
    expect(w.server.errors[0]).toBeInstanceOf(RangeError);
    expect(parseRecords(concatBytes(...w.server.sent)).at(-1)?.data).toEqual(new Uint8Array([2, AlertDescription.internal_error]));
  });

  it('close() while an async step is pending: close_notify goes out and nothing follows it', async () => {
    const kex = defaultKexRegistry().withProvider(fakeMilagro());
    const w = wire(defaultClient({ suites: [milagroSuite], kex }), defaultServer({ suites: [milagroSuite], kex }));
    w.client.engine.start(); // helloExtensions is pending
    w.client.engine.close();
    await w.settle();
    const recs = parseRecords(concatBytes(...w.client.sent));
    expect(recs.map((r) => r.type)).toEqual([21]);
    expect(w.server.peerClosed).toBe(true);
    expect(w.client.peerClosed).toBe(true);
    expect(w.client.errors).toEqual([]);
  });
});
