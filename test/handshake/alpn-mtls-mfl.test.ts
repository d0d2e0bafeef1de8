/** ALPN (RFC 7301), mutual TLS (RFC 5246 §7.4.4, §7.4.6, §7.4.8), max_fragment_length (RFC 6066 §4), record_size_limit (RFC 8449). */
import { describe, expect, it } from 'vitest';
import { AlertDescription, PeerAlertError, TlsError } from '../../src/alerts.ts';
import { SessionStore } from '../../src/handshake/session/store.ts';
import { Suites } from '../../src/suites.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { defaultClient, defaultServer, fixedClock, fixtureCerts, fixtureKey, handshake, seededRandom, text, untext } from './helpers.ts';
import { parseRecords } from './wire-tools.ts';

const alertOf = (e: Error | undefined): number | undefined => (e instanceof TlsError || e instanceof PeerAlertError ? e.alert : undefined);

describe('RFC 7301 ALPN', () => {
  it('the server picks its first protocol that the client offers', async () => {
    const w = await handshake(defaultClient({ alpnProtocols: ['http/1.1', 'h2'] }), defaultServer({ alpnProtocols: ['h2', 'http/1.1'] }));
    expect(w.client.secure?.alpnProtocol).toBe('h2');
    expect(w.server.secure?.alpnProtocol).toBe('h2');
  });

  it('no protocol in common → no_application_protocol (§3.2)', async () => {
    const w = await handshake(defaultClient({ alpnProtocols: ['spdy/3'] }), defaultServer({ alpnProtocols: ['h2'] }));
    expect(alertOf(w.server.errors[0])).toBe(AlertDescription.no_application_protocol);
    expect(alertOf(w.client.errors[0])).toBe(AlertDescription.no_application_protocol);
  });

  it('either side without ALPN → none negotiated', async () => {
    const a = await handshake(defaultClient({ alpnProtocols: ['h2'] }), defaultServer());
    expect(a.client.secure?.alpnProtocol).toBeUndefined();
    const b = await handshake(defaultClient(), defaultServer({ alpnProtocols: ['h2'] }));
    expect(b.server.secure?.alpnProtocol).toBeUndefined();
    expect(b.client.errors).toEqual([]);
  });

  it('a resumed session negotiates ALPN again', async () => {
    const sessionStore = new SessionStore({ random: seededRandom('st'), clock: fixedClock });
    const w = await handshake(defaultClient({ alpnProtocols: ['h2'] }), defaultServer({ alpnProtocols: ['h2'], sessionStore }));
    const session = w.client.secure?.session;
    const r = await handshake(defaultClient({ alpnProtocols: ['h2'], ...(session === undefined ? {} : { session }) }), defaultServer({ alpnProtocols: ['h2'], sessionStore }));
    expect(r.client.secure?.resumed).toBe(true);
    expect(r.client.secure?.alpnProtocol).toBe('h2');
  });
});

describe('mutual TLS', () => {
  const server = (over: Parameters<typeof defaultServer>[0] = {}) =>
    defaultServer({ requestCert: true, rejectUnauthorized: true, ca: [...fixtureCerts('ca-ec.pem'), ...fixtureCerts('ca-rsa.pem')], ...over });

  it('ECDSA client certificate: verified, CertificateVerify checked, peer chain on the server', async () => {
    const w = await handshake(defaultClient({ certificateChain: fixtureCerts('client-only.pem'), privateKey: fixtureKey('client-only.key') }), server());
    expect(w.server.errors).toEqual([]);
    expect(w.server.secure?.authorized).toBe(true);
    expect(w.server.secure?.peerCertificates[0]?.extKeyUsage).toContain('1.3.6.1.5.5.7.3.2');
  });

  it('RSA client certificate (rsa_pss_rsae or PKCS#1 as the request allows)', async () => {
    const w = await handshake(defaultClient({ certificateChain: fixtureCerts('server-rsa2048.pem'), privateKey: fixtureKey('server-rsa2048.key') }), server());
    expect(w.server.errors).toEqual([]);
    expect(w.server.secure?.authorized).toBe(true);
    expect(w.server.secure?.peerCertificates[0]?.publicKey.type).toBe('rsa');
  });

  it('client certificate from an unknown CA → unknown_ca', async () => {
    const w = await handshake(defaultClient({ certificateChain: fixtureCerts('self-signed.pem'), privateKey: fixtureKey('self-signed.key') }), server());
    expect(w.server.secure).toBeUndefined();
    expect(alertOf(w.server.errors[0])).toBe(AlertDescription.unknown_ca);
  });

  it('no client certificate: handshake_failure when required, unauthorized when only requested', async () => {
    const a = await handshake(defaultClient(), server());
    expect(alertOf(a.server.errors[0])).toBe(AlertDescription.handshake_failure);
    const b = await handshake(defaultClient(), server({ rejectUnauthorized: false }));
    expect(b.server.errors).toEqual([]);
    expect(b.server.secure?.authorized).toBe(false);
    expect(b.server.secure?.authorizationError?.code).toBeDefined();
  });

  it('an unknown-CA certificate is accepted but unauthorized when not required', async () => {
    const w = await handshake(defaultClient({ certificateChain: fixtureCerts('self-signed.pem'), privateKey: fixtureKey('self-signed.key') }), server({ rejectUnauthorized: false }));
    expect(w.server.secure?.authorized).toBe(false);
    expect(w.server.secure?.authorizationError?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(w.server.secure?.peerCertificates.length).toBe(1);
  });

  it('a CertificateVerify made with the wrong key → decrypt_error', async () => {
    const w = await handshake(defaultClient({ certificateChain: fixtureCerts('client-only.pem'), privateKey: fixtureKey('server-ec256.key') }), server());
    expect(alertOf(w.server.errors[0])).toBe(AlertDescription.decrypt_error);
  });

  it('a resumed session keeps the client certificate', async () => {
    const sessionStore = new SessionStore({ random: seededRandom('st'), clock: fixedClock });
    const client = { certificateChain: fixtureCerts('client-only.pem'), privateKey: fixtureKey('client-only.key') };
    const w = await handshake(defaultClient(client), server({ sessionStore }));
    const session = w.client.secure?.session;
    if (session === undefined) throw new Error('no session');
    const r = await handshake(defaultClient({ ...client, session }), server({ sessionStore }));
    expect(r.server.secure?.resumed).toBe(true);
    expect(r.server.secure?.authorized).toBe(true);
    expect(r.server.secure?.peerCertificates.length).toBe(1);
  });

  it('works with ECDHE_RSA server suites too', async () => {
    const suites = [Suites.ECDHE_RSA_WITH_AES_128_GCM_SHA256];
    const w = await handshake(
      defaultClient({ suites, ca: fixtureCerts('ca-rsa.pem'), certificateChain: fixtureCerts('client-only.pem'), privateKey: fixtureKey('client-only.key') }),
      server({ suites, certificateChain: fixtureCerts('server-rsa2048.pem'), privateKey: fixtureKey('server-rsa2048.key') }),
    );
    expect(w.server.secure?.authorized).toBe(true);
  });
});

/** Largest plaintext fragment in the records one side sent after the handshake. */
function maxRecord(sent: readonly Uint8Array[]): number {
  return Math.max(...parseRecords(concatBytes(...sent)).filter((r) => r.type === ContentType.application_data).map((r) => r.data.length));
}

describe('RFC 6066 §4 max_fragment_length and RFC 8449 record_size_limit', () => {
  it('max_fragment_length 512: both sides fragment at 512 (+ AEAD overhead) and data arrives whole', async () => {
    const w = await handshake(defaultClient({ maxFragmentLength: 512 }), defaultServer());
    expect(w.client.errors).toEqual([]);
    const before = w.server.sent.length;
    const payload = new Uint8Array(5000).fill(0x61);
    w.server.engine.write(payload);
    w.client.engine.write(payload);
    await w.settle();
    expect(maxRecord(w.server.sent.slice(before))).toBe(512 + 8 + 16);
    expect(maxRecord(w.client.sent)).toBe(512 + 8 + 16);
    expect(concatBytes(...w.client.data).length).toBe(5000);
    expect(concatBytes(...w.server.data).length).toBe(5000);
  });

  it('record_size_limit 256: the server sends at most 256-byte plaintexts to the client', async () => {
    const w = await handshake(defaultClient({ recordSizeLimit: 256 }), defaultServer());
    const before = w.server.sent.length;
    w.server.engine.write(new Uint8Array(3000));
    await w.settle();
    expect(maxRecord(w.server.sent.slice(before))).toBe(256 + 8 + 16);
    expect(concatBytes(...w.client.data).length).toBe(3000);
  });

  it('record_size_limit wins over max_fragment_length (RFC 8449 §5)', async () => {
    const w = await handshake(defaultClient({ recordSizeLimit: 1000, maxFragmentLength: 512 }), defaultServer());
    const before = w.server.sent.length;
    w.server.engine.write(new Uint8Array(3000));
    await w.settle();
    expect(maxRecord(w.server.sent.slice(before))).toBe(1000 + 8 + 16);
  });

  it('the smallest record_size_limit (64) still carries a whole handshake and data', async () => {
    const w = await handshake(defaultClient({ recordSizeLimit: 64 }), defaultServer());
    expect(w.client.errors).toEqual([]);
    const before = w.server.sent.length;
    w.server.engine.write(text('x'.repeat(200)));
    await w.settle();
    expect(maxRecord(w.server.sent.slice(before))).toBe(64 + 8 + 16);
    expect(untext(concatBytes(...w.client.data))).toBe('x'.repeat(200));
  });
});
