/**
 * Issue 7 items 2, 7 over real sockets: the `milagroP2p` option of connect/createServer with the
 * TA_p2p demo keys (hex text of the P2PServerKey / P2PClientKey files), getPeerIdentity() on both
 * sides, identity policies, and hostile ClientKeyExchange bodies (zero-length and oversized
 * identities, lengths that disagree with the message, invalid G1/G2 points including a twist
 * point outside G2) answered with an alert while the server keeps serving.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertDescription, PeerAlertError, TlsError, connect, createServer, type Server, type TLSSocket } from '../../src/index.ts';
import { hexToBytes } from '../../src/codec/bytes.ts';
import { encodeG2, isInG2, map2BeforeClearing } from '../../src/crypto/bncx/index.ts';
import type { ClientKeyExchangeSession, KeyExchangeProvider } from '../../src/kex/key-exchange.ts';
import { InProcessP2pCompute, milagroP2pFlow, type MilagroP2pCompute, type MilagroP2pEvent } from '../../src/kex/milagro-p2p.ts';
import { decodeP2pServerKeyExchange } from '../../src/kex/milagro/p2p-wire.ts';
import { KexRegistry } from '../../src/kex/registry.ts';
import { closeServer, listen } from '../api/helpers.ts';
import { loadRecording } from '../replay/recording.ts';

const rec = loadRecording('p2p_default');
const serverKeyHex = rec.key_files['P2PServerKey'] ?? '';
const clientKeyHex = rec.key_files['P2PClientKey'] ?? '';
const SERVER_ID = 'server.miracl.com';
const CLIENT_ID = 'client@miracl.com';

const events: MilagroP2pEvent[] = [];
const clientErrors: Error[] = [];
const authenticated: string[] = [];
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer({
    milagroP2p: {
      identity: SERVER_ID,
      senderKey: `${serverKeyHex}\n`, // as read from the P2PServerKey file (a newline is tolerated)
      allowedClients: (peer) => peer.text !== 'banned@miracl.com',
      logger: (e) => events.push(e),
      workers: 2,
    },
  });
  server.on('tlsClientError', (e: Error) => clientErrors.push(e));
  server.on('secureConnection', (s: TLSSocket) => {
    authenticated.push(s.getPeerIdentity()?.identity ?? '?');
    s.on('data', (d: Buffer) => s.end(`${s.getPeerIdentity()?.identity ?? '?'} said ${d.toString()}`));
    s.on('error', () => undefined);
  });
  port = await listen(server);
});
afterAll(() => closeServer(server));

function p2pClient(extra: Record<string, unknown> = {}): TLSSocket {
  return connect({
    port,
    host: '127.0.0.1',
    milagroP2p: { identity: CLIENT_ID, receiverKey: clientKeyHex, serverIdentity: SERVER_ID, ...extra },
  });
}

async function exchange(s: TLSSocket, msg: string): Promise<string> {
  await once(s, 'secureConnect');
  s.write(msg);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** The handshake error of a refused connection: our own TlsError or the peer's alert. */
async function refusal(s: TLSSocket): Promise<{ readonly alert: number }> {
  const [err] = (await once(s, 'error')) as [Error];
  if (!(err instanceof PeerAlertError) && !(err instanceof TlsError)) throw err;
  return err;
}

/**
 * A client-side MILAGRO_P2P stand-in that sends an arbitrary ClientKeyExchange body (the bytes a
 * hostile peer controls) and a random premaster.
 */
function hostile(body: Uint8Array): KeyExchangeProvider {
  return {
    name: 'MILAGRO_P2P',
    flow: milagroP2pFlow,
    client(): ClientKeyExchangeSession {
      return {
        processServerKeyExchange(b: Uint8Array) {
          decodeP2pServerKeyExchange(b);
        },
        clientKeyExchange: () => ({ body, premaster: new Uint8Array(18).fill(1) }),
      };
    },
    server() {
      throw new Error('client only');
    },
  };
}

function hostileClient(body: Uint8Array): TLSSocket {
  return connect({ port, host: '127.0.0.1', ciphers: 'MILAGRO-P2P-AES128-GCM-SHA256', kex: KexRegistry.of(hostile(body)) });
}

describe('MILAGRO_P2P through connect/createServer (TA_p2p demo keys)', () => {
  it('authenticates both identities: getPeerIdentity() on client and server, data both ways', async () => {
    const s = p2pClient();
    expect(await exchange(s, 'hello')).toBe(`${CLIENT_ID} said hello`);
    expect(s.getCipher()?.name).toBe('MILAGRO-P2P-AES128-GCM-SHA256');
    expect(s.getPeerIdentity()).toEqual({
      kind: 'wcc',
      identity: SERVER_ID,
      hashId: createHash('sha256').update(SERVER_ID).digest('hex'),
    });
    expect(s.getPeerCertificate()).toEqual({});
    expect(events.at(-1)).toEqual({ kind: 'accepted', role: 'server', peer: `"${CLIENT_ID}"` });
  });

  it('the default expected server identity is servername', async () => {
    const s = connect({ port, host: '127.0.0.1', servername: SERVER_ID, milagroP2p: { identity: CLIENT_ID, receiverKey: hexToBytes(clientKeyHex) } });
    expect(await exchange(s, 'sni')).toBe(`${CLIENT_ID} said sni`);
  });

  it('a client expecting another server refuses it with access_denied (host 127.0.0.1 by default); the server keeps serving', async () => {
    const a = await refusal(connect({ port, host: '127.0.0.1', milagroP2p: { identity: CLIENT_ID, receiverKey: clientKeyHex } }));
    expect(a).toBeInstanceOf(TlsError); // refused by us, not by the server
    expect(a.alert).toBe(AlertDescription.access_denied);
    const b = await refusal(p2pClient({ serverIdentity: ['evil.miracl.com'] }));
    expect(b.alert).toBe(AlertDescription.access_denied);
    expect(await exchange(p2pClient(), 'again')).toBe(`${CLIENT_ID} said again`);
  });

  it('a client identity the server does not allow gets access_denied (checked before the pairing)', async () => {
    // The claimed identity is refused before any key is checked, so any G2 key will do here.
    const err = await refusal(p2pClient({ identity: 'banned@miracl.com' }));
    expect(err).toBeInstanceOf(PeerAlertError);
    expect(err.alert).toBe(AlertDescription.access_denied);
    expect(events.at(-1)).toMatchObject({ kind: 'rejected', reason: 'unexpected-identity', peer: '"banned@miracl.com"' });
  });

  it('a client without the key for its claimed identity fails key confirmation (no identity reported)', async () => {
    const errorsBefore = clientErrors.length;
    const s = p2pClient({ identity: 'admin@miracl.com' }); // key is client@miracl.com's
    const err = await refusal(s);
    expect(err.alert).toBeOneOf([AlertDescription.bad_record_mac, AlertDescription.decrypt_error]);
    expect(s.getPeerIdentity()).toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    // The server failed the client's Finished and never reported it as authenticated.
    const serverSide = clientErrors.slice(errorsBefore);
    expect(serverSide.length).toBe(1);
    expect((serverSide[0] as TlsError).alert).toBeOneOf([AlertDescription.bad_record_mac, AlertDescription.decrypt_error]);
    expect(authenticated).not.toContain('admin@miracl.com');
  });

  it('hostile ClientKeyExchange bodies get the right alert; the server stays up', async () => {
    const id = new TextEncoder().encode(CLIENT_ID);
    const ok = hexToBytes(
      rec.records[4]?.record_hex.slice((5 + 4) * 2) ?? '', // the recorded CKE body
    );
    const pg = ok.subarray(6 + id.length, 6 + id.length + 65);
    const pb = ok.subarray(6 + id.length + 65);
    const twist = (() => {
      for (let i = 0; ; i++) {
        const pt = map2BeforeClearing(new Uint8Array(32).fill(i + 3));
        if (!isInG2(pt)) return encodeG2(pt);
      }
    })();
    const body = (lenId: number, lenG: number, lenB: number, ...parts: Uint8Array[]) => {
      const head = Uint8Array.of(lenId >> 8, lenId & 0xff, lenG >> 8, lenG & 0xff, lenB >> 8, lenB & 0xff);
      return Uint8Array.from([...head, ...parts.flatMap((p) => [...p])]);
    };
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice();
      c[i] = (c[i] ?? 0) ^ 1;
      return c;
    };
    const cases: [string, Uint8Array, number][] = [
      ['zero-length identity', body(0, 65, 128, pg, pb), AlertDescription.illegal_parameter],
      ['oversized identity (300 bytes)', body(300, 65, 128, new Uint8Array(300).fill(0x61), pg, pb), AlertDescription.illegal_parameter],
      ['identity length larger than the message', body(200, 65, 128, id, pg, pb), AlertDescription.decode_error],
      ['trailing bytes', body(id.length, 65, 128, id, pg, pb, Uint8Array.of(0)), AlertDescription.decode_error],
      ['G2 length 127', body(id.length, 65, 127, id, pg, pb.subarray(1)), AlertDescription.illegal_parameter],
      ['PgG1 off the curve', body(id.length, 65, 128, id, flip(pg, 64), pb), AlertDescription.illegal_parameter],
      ['PgG1 with prefix 02', body(id.length, 65, 128, id, Uint8Array.of(2, ...pg.subarray(1)), pb), AlertDescription.illegal_parameter],
      ['PbG2 off the twist', body(id.length, 65, 128, id, pg, flip(pb, 127)), AlertDescription.illegal_parameter],
      ['PbG2 on the twist, outside G2', body(id.length, 65, 128, id, pg, twist), AlertDescription.illegal_parameter],
      ['PbG2 all zero', body(id.length, 65, 128, id, pg, new Uint8Array(128)), AlertDescription.illegal_parameter],
      ['truncated', ok.subarray(0, 5), AlertDescription.decode_error],
    ];
    for (const [name, b, alert] of cases) {
      const err = await refusal(hostileClient(b));
      expect(err, name).toBeInstanceOf(PeerAlertError);
      expect(err.alert, name).toBe(alert);
    }
    expect(await exchange(p2pClient(), 'still here')).toBe(`${CLIENT_ID} said still here`);
  });

  it('a client compute object can be shared across connections (its caches survive)', async () => {
    const inner = new InProcessP2pCompute();
    let calls = 0;
    const compute: MilagroP2pCompute = {
      senderEphemeral: (i) => inner.senderEphemeral(i),
      senderKey: (i) => inner.senderKey(i),
      receiverKeyExchange: (i) => {
        calls++;
        return inner.receiverKeyExchange(i);
      },
    };
    expect(await exchange(p2pClient({ compute }), 'one')).toBe(`${CLIENT_ID} said one`);
    expect(await exchange(p2pClient({ compute }), 'two')).toBe(`${CLIENT_ID} said two`);
    expect(calls).toBe(2);
  });

  it('suiteId moves MILAGRO_P2P to another number on both sides (0xC0B2 collides with RFC 8492)', async () => {
    const moved = createServer({ milagroP2p: { identity: SERVER_ID, senderKey: serverKeyHex, suiteId: 0xff42, workers: false } }, (s: TLSSocket) => {
      s.on('error', () => undefined);
      s.on('data', () => s.end('moved'));
    });
    const movedPort = await listen(moved);
    try {
      const s = connect({ port: movedPort, host: '127.0.0.1', milagroP2p: { identity: CLIENT_ID, receiverKey: clientKeyHex, serverIdentity: SERVER_ID, suiteId: 0xff42 } });
      expect(await exchange(s, 'x')).toBe('moved');
      expect(s.handshakeInfo?.suite.id).toBe(0xff42);
      // A client still on 0xC0B2 finds no common suite.
      const old = connect({ port: movedPort, host: '127.0.0.1', milagroP2p: { identity: CLIENT_ID, receiverKey: clientKeyHex, serverIdentity: SERVER_ID } });
      expect((await refusal(old)).alert).toBe(AlertDescription.handshake_failure);
    } finally {
      await closeServer(moved);
    }
  });

  it('option errors are thrown synchronously', () => {
    expect(() => createServer({ milagroP2p: { identity: SERVER_ID, senderKey: 'zz' } })).toThrow(/hex/);
    expect(() => createServer({ milagroP2p: { identity: SERVER_ID, senderKey: clientKeyHex } })).toThrow(/65 bytes/);
    expect(() => createServer({ milagroP2p: { identity: '', senderKey: serverKeyHex, workers: false } })).toThrow(/identity/);
    expect(() => connect({ port, milagroP2p: { identity: CLIENT_ID, receiverKey: new Uint8Array(128) } })).toThrow(/milagroP2p/);
    expect(() => connect({ port, milagroP2p: { identity: CLIENT_ID, receiverKey: clientKeyHex, workers: 2 as never } })).toThrow(/workers/);
  });
});
