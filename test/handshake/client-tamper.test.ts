import { describe, expect, it } from 'vitest';
import { AlertDescription, PeerAlertError, TlsError } from '../../src/alerts.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { HandshakeType } from '../../src/handshake/messages/types.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { defaultClient, defaultServer, fixtureCerts, fixtureKey, handshake, wire, text, concat, untext, type Side, type Tamper } from './helpers.ts';
import { forgeEncrypted, handshakeMsg, parseRecords, record, splitHandshake } from './wire-tools.ts';

function expectFatal(side: Side, alert: number): void {
  expect(side.errors.length, String(side.errors[0])).toBe(1);
  expect(side.errors[0]).toBeInstanceOf(TlsError);
  expect((side.errors[0] as TlsError).alert).toBe(alert);
  expect(side.engine.state).toBe('failed');
}

function expectPeerSaw(side: Side, alert: number): void {
  expect(side.errors[0]).toBeInstanceOf(PeerAlertError);
  expect((side.errors[0] as PeerAlertError).alert).toBe(alert);
}

/** Rewrite the server's first flight (one plaintext record of handshake messages). */
function rewriteFirstFlight(f: (msgs: Uint8Array[]) => Uint8Array[]): Tamper {
  return (dir, bytes, index) => {
    if (dir !== 's2c' || index !== 0) return bytes;
    const recs = parseRecords(bytes);
    const msgs = recs.flatMap((r) => splitHandshake(r.data).map((m) => m.raw));
    return record(ContentType.handshake, concatBytes(...f(msgs)));
  };
}

describe('client: certificate verification (node:tls semantics)', () => {
  const cases = [
    ['wrong-host', 'bad_certificate', AlertDescription.bad_certificate, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['self-signed', 'unknown_ca', AlertDescription.unknown_ca, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['expired', 'certificate_expired', AlertDescription.certificate_expired, 'CERT_HAS_EXPIRED'],
  ] as const;
  for (const [fixture, name, alert, code] of cases) {
    it(`${fixture}: rejectUnauthorized → fatal ${name}`, async () => {
      const w = await handshake(defaultClient(), defaultServer({ certificateChain: fixtureCerts(`${fixture}.pem`), privateKey: fixtureKey(`${fixture}.key`) }));
      expectFatal(w.client, alert);
      expect(w.client.errors[0]?.message).toContain(code);
      expectPeerSaw(w.server, alert);
    });
    it(`${fixture}: rejectUnauthorized false → completes with authorized=false and ${code}`, async () => {
      const w = await handshake(
        defaultClient({ rejectUnauthorized: false }),
        defaultServer({ certificateChain: fixtureCerts(`${fixture}.pem`), privateKey: fixtureKey(`${fixture}.key`) }),
      );
      expect(w.client.errors).toEqual([]);
      expect(w.client.secure?.authorized).toBe(false);
      expect(w.client.secure?.authorizationError?.code).toBe(code);
    });
  }

  it('unknown CA: a server whose chain ends at a CA we do not trust → unknown_ca', async () => {
    const w = await handshake(defaultClient({ ca: fixtureCerts('ca-rsa.pem') }), defaultServer());
    expectFatal(w.client, AlertDescription.unknown_ca);
  });

  it('accepts a chain with an intermediate', async () => {
    const w = await handshake(defaultClient(), defaultServer({ certificateChain: fixtureCerts('chain-leaf.pem'), privateKey: fixtureKey('chain-leaf.key') }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.authorized).toBe(true);
    expect(w.client.secure?.peerCertificates.length).toBe(2);
  });

  it('a custom checkServerIdentity replaces the host name check', async () => {
    const w = await handshake(
      defaultClient({ checkServerIdentity: () => Object.assign(new Error('nope'), { code: 'CUSTOM' }), rejectUnauthorized: false }),
      defaultServer(),
    );
    expect(w.client.secure?.authorizationError).toEqual({ code: 'CUSTOM', message: 'nope' });
  });
});

describe('RFC 7627 extended master secret', () => {
  for (const [c, s] of [[true, true], [true, false], [false, true], [false, false]] as const) {
    it(`client ${c ? 'offers' : 'does not offer'}, server ${s ? 'accepts' : 'refuses'} → ${c && s}`, async () => {
      const w = await handshake(defaultClient({ extendedMasterSecret: c }), defaultServer({ extendedMasterSecret: s }));
      expect(w.client.errors).toEqual([]);
      expect(w.client.secure?.extendedMasterSecret).toBe(c && s);
      expect(w.server.secure?.extendedMasterSecret).toBe(c && s);
      expect(w.client.keylog).toEqual(w.server.keylog);
    });
  }
  it('the master secret differs with and without EMS for identical randoms', async () => {
    const a = await handshake(defaultClient({ extendedMasterSecret: true }), defaultServer());
    const b = await handshake(defaultClient({ extendedMasterSecret: false }), defaultServer());
    const [, ra, ma] = (a.client.keylog[0] ?? '').split(' ');
    const [, rb, mb] = (b.client.keylog[0] ?? '').split(' ');
    expect(ra).toBe(rb);
    expect(ma).not.toBe(mb);
  });
});

describe('client: hostile server flights (RFC 5246 §7.3)', () => {
  it('messages out of order (ServerKeyExchange before Certificate) → unexpected_message', async () => {
    const w = await handshake(defaultClient(), defaultServer(), rewriteFirstFlight(([sh, cert, ske, done]) => [sh!, ske!, cert!, done!]));
    expectFatal(w.client, AlertDescription.unexpected_message);
    expectPeerSaw(w.server, AlertDescription.unexpected_message);
  });

  it('a missing ServerKeyExchange → unexpected_message', async () => {
    const w = await handshake(defaultClient(), defaultServer(), rewriteFirstFlight(([sh, cert, , done]) => [sh!, cert!, done!]));
    expectFatal(w.client, AlertDescription.unexpected_message);
  });

  it('a duplicated ServerHello → unexpected_message', async () => {
    const w = await handshake(defaultClient(), defaultServer(), rewriteFirstFlight((m) => [m[0]!, ...m]));
    expectFatal(w.client, AlertDescription.unexpected_message);
  });

  it('ChangeCipherSpec before ServerHelloDone → unexpected_message', async () => {
    const w = await handshake(defaultClient(), defaultServer(), (dir, bytes, i) =>
      dir === 's2c' && i === 0 ? concatBytes(record(ContentType.change_cipher_spec, new Uint8Array([1])), bytes) : bytes,
    );
    expectFatal(w.client, AlertDescription.unexpected_message);
  });

  it('a ServerKeyExchange with a bad signature → decrypt_error', async () => {
    const w = await handshake(
      defaultClient(),
      defaultServer(),
      rewriteFirstFlight((m) =>
        m.map((raw) => {
          if (raw[0] !== HandshakeType.server_key_exchange) return raw;
          const t = raw.slice();
          t[t.length - 3]! ^= 0x40;
          return t;
        }),
      ),
    );
    expectFatal(w.client, AlertDescription.decrypt_error);
    expectPeerSaw(w.server, AlertDescription.decrypt_error);
  });

  it('a ServerHello choosing a suite we did not offer → illegal_parameter', async () => {
    const w = await handshake(
      defaultClient({ suites: [defaultClient().suites[0]!] }),
      defaultServer(),
      rewriteFirstFlight((m) => {
        const sh = m[0]!.slice();
        const sid = sh[4 + 34]!;
        sh[4 + 35 + sid] = 0xcc;
        sh[4 + 36 + sid] = 0xa9;
        return [sh, ...m.slice(1)];
      }),
    );
    expectFatal(w.client, AlertDescription.illegal_parameter);
  });

  it('a ServerHello with TLS 1.1 → protocol_version', async () => {
    const w = await handshake(defaultClient(), defaultServer(), rewriteFirstFlight((m) => {
      const sh = m[0]!.slice();
      sh[5] = 0x02;
      return [sh, ...m.slice(1)];
    }));
    expectFatal(w.client, AlertDescription.protocol_version);
  });

  it('a Finished that does not match the transcript → decrypt_error (tampered ServerHello session_id, no EMS)', async () => {
    // The session_id changes only the client's transcript; keys are unchanged without EMS, so the
    // server decrypts the client Finished and finds a wrong verify_data.
    const w = await handshake(defaultClient({ extendedMasterSecret: false }), defaultServer(), rewriteFirstFlight((m) => {
      const sh = m[0]!.slice();
      sh[4 + 35]! ^= 0xff;
      return [sh, ...m.slice(1)];
    }));
    expectFatal(w.server, AlertDescription.decrypt_error);
    expectPeerSaw(w.client, AlertDescription.decrypt_error);
  });

  it('the same tampering with EMS → the Finished record fails to decrypt (bad_record_mac)', async () => {
    const w = await handshake(defaultClient(), defaultServer(), rewriteFirstFlight((m) => {
      const sh = m[0]!.slice();
      sh[4 + 35]! ^= 0xff;
      return [sh, ...m.slice(1)];
    }));
    expectFatal(w.server, AlertDescription.bad_record_mac);
  });

  it('a peer that stops mid-handshake leaves the engine waiting (timeouts are the API layer’s job)', async () => {
    const w = await handshake(defaultClient(), defaultServer(), (dir, bytes) => (dir === 's2c' ? bytes.subarray(0, bytes.length - 7) : bytes));
    expect(w.client.errors).toEqual([]);
    expect(w.client.engine.state).toBe('handshaking');
    expect(w.server.engine.state).toBe('handshaking');
    expect(() => w.client.engine.write(text('x'))).toThrow();
  });

  it('application data before the handshake completes → unexpected_message', async () => {
    const w = await handshake(defaultClient(), defaultServer(), (dir, bytes, i) =>
      dir === 's2c' && i === 0 ? concatBytes(bytes, record(ContentType.application_data, new Uint8Array([1, 2]))) : bytes,
    );
    expectFatal(w.client, AlertDescription.unexpected_message);
  });

  it('a server that sends every byte separately still completes the handshake', async () => {
    const w = wire(defaultClient(), defaultServer(), (dir, bytes) => {
      if (dir === 's2c') for (const b of bytes) w.client.engine.receive(new Uint8Array([b]));
      else return bytes;
      return undefined;
    });
    w.client.engine.start();
    await w.settle();
    expect(w.client.errors).toEqual([]);
    expect(w.client.engine.state).toBe('open');
  });
});

describe('client: seeded mutations of the server flight', () => {
  it('only TlsError (never internal_error, never a crash) for 200 mutated first flights', async () => {
    let x = 0x9e3779b9;
    const rnd = (): number => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
    for (let i = 0; i < 200; i++) {
      const w = await handshake(defaultClient(), defaultServer(), (dir, bytes, index) => {
        if (dir !== 's2c' || index !== 0) return bytes;
        const m = bytes.slice();
        const flips = 1 + (rnd() % 3);
        for (let k = 0; k < flips; k++) m[5 + (rnd() % (m.length - 5))] = rnd() & 0xff;
        return m;
      });
      for (const e of [...w.client.errors, ...w.server.errors]) {
        // Either side may fail first; the other then sees the alert (PeerAlertError).
        expect(e instanceof TlsError || e instanceof PeerAlertError, `iteration ${i}: ${String(e)}`).toBe(true);
        expect((e as TlsError | PeerAlertError).alert, `iteration ${i}: ${String(e)}`).not.toBe(AlertDescription.internal_error);
      }
    }
  }, 120_000);
});

describe('server credentials', () => {
  it('a server with only an RSA certificate cannot serve ECDHE_ECDSA → handshake_failure', async () => {
    const ecdsaOnly = defaultClient().suites.filter((x) => x.kex === 'ECDHE_ECDSA');
    const w = await handshake(
      defaultClient({ suites: ecdsaOnly }),
      defaultServer({ certificateChain: fixtureCerts('server-rsa2048.pem'), privateKey: fixtureKey('server-rsa2048.key') }),
    );
    expectFatal(w.server, AlertDescription.handshake_failure);
    expectPeerSaw(w.client, AlertDescription.handshake_failure);
  });
});

describe('after the handshake', () => {
  it('refuses renegotiation: HelloRequest to the client → warning no_renegotiation, connection stays open', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    w.client.engine.receive(forgeEncrypted(w, 'server', ContentType.handshake, handshakeMsg(HandshakeType.hello_request, new Uint8Array(0))));
    await w.settle();
    expect(w.client.errors).toEqual([]);
    expect(w.client.engine.state).toBe('open');
    expect(parseRecords(concat(w.client.sent)).at(-1)?.type).toBe(ContentType.alert);
    // The server received the warning and ignored it; the client→server direction still works.
    // (The server's own write sequence was consumed by the forged record, so it cannot write.)
    expect(w.server.errors).toEqual([]);
    w.client.engine.write(text('still here'));
    await w.settle();
    expect(untext(concat(w.server.data))).toBe('still here');
  });

  it('refuses renegotiation: a ClientHello to the server → warning no_renegotiation', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    const hello = parseRecords(w.client.sent[0]!)[0]!.data;
    const before = w.server.sent.length;
    w.server.engine.receive(forgeEncrypted(w, 'client', ContentType.handshake, hello));
    await w.server.engine.idle;
    expect(w.server.errors).toEqual([]);
    expect(w.server.sent.length).toBe(before + 1);
    expect(w.server.engine.state).toBe('open');
  });

  it('refuses any other handshake message in Traffic (unexpected_message)', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    w.client.engine.receive(forgeEncrypted(w, 'server', ContentType.handshake, handshakeMsg(HandshakeType.finished, new Uint8Array(12))));
    await w.settle();
    expectFatal(w.client, AlertDescription.unexpected_message);
  });

  it('refuses a second ChangeCipherSpec (unexpected_message)', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    w.client.engine.receive(forgeEncrypted(w, 'server', ContentType.change_cipher_spec, new Uint8Array([1])));
    await w.settle();
    expectFatal(w.client, AlertDescription.unexpected_message);
  });

  it('close_notify: the peer answers and both sides end closed; further writes throw', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    w.server.engine.close();
    w.server.engine.close();
    await w.settle();
    expect(w.client.peerClosed).toBe(true);
    expect(w.server.peerClosed).toBe(true);
    expect(() => w.client.engine.write(text('x'))).toThrow();
    expect(w.client.errors).toEqual([]);
    expect(w.server.errors).toEqual([]);
  });
});
