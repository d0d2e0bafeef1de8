/**
 * The proxy's own answers, without a directory behind it (the target port is closed): what a
 * client gets when the directory is down, StartTLS without a certificate, SASL in force mode,
 * the message-size bound and the idle timeout. Tokens come from the relying party's own
 * LoginTokens on a memory store. The end-to-end behaviour against OpenLDAP is in slapd.test.ts.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berInteger, berOctets, berTlv } from '../../src/ldap/ber.ts';
import { LdapProxy, type LdapProxyOptions } from '../../src/ldap/proxy.ts';
import {
  decodeLdapResult,
  encodeBindRequest,
  encodeSearchRequest,
  LdapFramer,
  NOTICE_OF_DISCONNECTION_OID,
  Op,
  parseEnvelope,
  ResultCode,
  STARTTLS_OID,
  type LdapEnvelope,
} from '../../src/ldap/messages.ts';
import { InProcessTokenVerifier } from '../../src/ldap/verifier.ts';
import { systemClock, systemRandom } from '../../src/providers.ts';
import { MemoryStore } from '../../src/store/index.ts';
import { LoginTokens } from '../../src/web/server/login-tokens.ts';

let closedPort: number;
let store: MemoryStore;
let tokens: LoginTokens;
const proxies: LdapProxy[] = [];

beforeAll(async () => {
  // A port nobody listens on: bind to one, note it, close it.
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  closedPort = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  store = new MemoryStore({ clock: systemClock });
  tokens = new LoginTokens({ store, clock: systemClock, random: systemRandom });
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await store.close();
});

async function start(over: Partial<LdapProxyOptions> = {}): Promise<number> {
  const p = new LdapProxy({
    target: { secure: false, host: '127.0.0.1', port: closedPort },
    verifier: new InProcessTokenVerifier({ verifyLoginToken: (r) => tokens.verify(r) }),
    audience: 'ldap',
    serviceAccount: { dn: 'cn=proxy', password: 'x' },
    identityAttribute: 'mail',
    mode: 'force',
    backendTimeoutMs: 2000,
    ...over,
  });
  proxies.push(p);
  return (await p.listen(0)).port;
}

/** A client connection that collects the proxy's answers. */
async function client(port: number): Promise<{ s: Socket; got: LdapEnvelope[]; closed: Promise<unknown>; next(n: number): Promise<LdapEnvelope[]> }> {
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  const framer = new LdapFramer();
  const got: LdapEnvelope[] = [];
  s.on('data', (d: Buffer) => {
    for (const m of framer.push(d)) got.push(parseEnvelope(m));
  });
  const closed = once(s, 'close');
  return {
    s,
    got,
    closed,
    async next(n: number) {
      const t0 = Date.now();
      while (got.length < n && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      return got;
    },
  };
}

const isNotice = (e: LdapEnvelope): boolean => e.messageId === 0 && e.opTag === Op.ExtendedResponse && Buffer.from(e.raw).includes(Buffer.from(NOTICE_OF_DISCONNECTION_OID));

describe('LdapProxy without a directory', () => {
  it('directory down: a valid token bind and a search get unavailable (52); the proxy keeps serving', async () => {
    const port = await start();
    const { token } = await tokens.mint('alice@example.org', 'ldap');
    const c = await client(port);
    c.s.write(encodeBindRequest(1, 'uid=alice,dc=x', token));
    c.s.write(encodeSearchRequest(2, { base: 'dc=x', scope: 2, filter: { present: 'objectClass' }, attributes: [] }));
    const got = await c.next(2);
    expect(got.map((e) => [e.messageId, e.opTag, decodeLdapResult(e).resultCode])).toEqual([
      [1, Op.BindResponse, ResultCode.unavailable],
      [2, Op.SearchResultDone, ResultCode.unavailable],
    ]);
    c.s.destroy();
    // A refused token is refused before any directory work: invalidCredentials, not unavailable.
    const d = await client(port);
    d.s.write(encodeBindRequest(3, 'uid=alice,dc=x', token));
    expect(decodeLdapResult((await d.next(1))[0] as LdapEnvelope).resultCode).toBe(ResultCode.invalidCredentials);
    d.s.destroy();
  });

  it('StartTLS without --cert/--key: protocolError, and the connection stays usable', async () => {
    const port = await start();
    const c = await client(port);
    c.s.write(berTlv(0x30, berInteger(7), berTlv(Op.ExtendedRequest, berOctets(STARTTLS_OID, 0x80))));
    c.s.write(encodeBindRequest(8, 'uid=alice,dc=x', 'a password'));
    const got = await c.next(2);
    expect(got.map((e) => [e.messageId, decodeLdapResult(e).resultCode])).toEqual([
      [7, ResultCode.protocolError],
      [8, ResultCode.invalidCredentials],
    ]);
    c.s.destroy();
  });

  it('force mode: SASL binds get authMethodNotSupported (7)', async () => {
    const port = await start();
    const c = await client(port);
    c.s.write(berTlv(0x30, berInteger(1), berTlv(Op.BindRequest, berInteger(3), berOctets(''), berTlv(0xa3, berOctets('EXTERNAL')))));
    expect(decodeLdapResult((await c.next(1))[0] as LdapEnvelope).resultCode).toBe(ResultCode.authMethodNotSupported);
    c.s.destroy();
  });

  it('a message over --max-message-size: notice of disconnection, closed', async () => {
    const port = await start({ maxMessageSize: 1024 });
    const c = await client(port);
    c.s.write(encodeBindRequest(1, 'uid=alice,dc=x', 'p'.repeat(2000)));
    await c.closed;
    expect(c.got.some(isNotice)).toBe(true);
    expect(decodeLdapResult(c.got.find(isNotice) as LdapEnvelope).resultCode).toBe(ResultCode.protocolError);
  });

  it('idle connections are closed after --idle-timeout', async () => {
    const port = await start({ idleTimeoutMs: 200 });
    const c = await client(port);
    const t0 = Date.now();
    c.s.write(Uint8Array.of(0x30, 0x10)); // half a message header, then silence
    await c.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });
});
