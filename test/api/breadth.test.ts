/**
 * Issue 4 features over real sockets, against ourselves and node:tls: ECDHE-RSA, session
 * resumption (ID and ticket, shared ticket keys), ALPN, mutual TLS, max_fragment_length.
 */
import { once } from 'node:events';
import * as nodeTls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../../src/index.ts';
import { ca, cert256, closeServer, fixture, key256, listen, readAll, roundTrip, secure, withSession } from './helpers.ts';

const caRsa = fixture('ca-rsa.pem');
const certRsa = fixture('server-rsa2048.pem');
const keyRsa = fixture('server-rsa2048.key');
const clientCert = fixture('client-only.pem');
const clientKey = fixture('client-only.key');

describe('ECDHE-RSA over sockets', () => {
  it('our client and server, and node:tls as the client', async () => {
    const server = createServer({ key: keyRsa, cert: certRsa }, (s) => s.pipe(s));
    const port = await listen(server);
    const ours = await roundTrip(port, { ca: caRsa });
    expect(ours.echoed).toBe('hi');
    expect(ours.socket.getCipher()?.name).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    const n = nodeTls.connect({ host: '127.0.0.1', port, ca: caRsa, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' });
    await once(n, 'secureConnect');
    expect(n.getCipher().name).toBe('ECDHE-RSA-CHACHA20-POLY1305');
    n.end();
    await closeServer(server);
  });

  it('refuses a server RSA key below 2048 bits at createServer()', () => {
    expect(() => createServer({ key: fixture('server-rsa1024.key'), cert: fixture('server-rsa1024.pem') })).toThrow(/2048/);
  });
});

describe('session resumption over sockets', () => {
  it('ticket: session event, isSessionReused, keylog on the resumed handshake', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.pipe(s));
    const port = await listen(server);
    const first = await roundTrip(port);
    expect(first.socket.isSessionReused()).toBe(false);
    expect(first.session).toBeInstanceOf(Buffer);
    const keylog: string[] = [];
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...withSession(first.session) });
    socket.on('keylog', (l: Buffer) => keylog.push(l.toString()));
    await secure(socket);
    expect(socket.isSessionReused()).toBe(true);
    expect(socket.authorized).toBe(true);
    expect(keylog.length).toBe(1);
    expect(keylog[0]).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    socket.end();
    await readAll(socket);
    await closeServer(server);
  });

  it('session ID when tickets are off; garbage session buffer → full handshake', async () => {
    const server = createServer({ key: key256, cert: cert256, sessionTickets: false }, (s) => s.pipe(s));
    const port = await listen(server);
    const first = await roundTrip(port);
    const again = await roundTrip(port, withSession(first.session));
    expect(again.socket.isSessionReused()).toBe(true);
    const junk = await roundTrip(port, { session: Buffer.from('not a session') });
    expect(junk.socket.isSessionReused()).toBe(false);
    await closeServer(server);
  });

  it('two servers sharing ticketKeys (cluster workers) resume each other’s tickets', async () => {
    const a = createServer({ key: key256, cert: cert256 }, (s) => s.pipe(s));
    const b = createServer({ key: key256, cert: cert256, ticketKeys: a.getTicketKeys() }, (s) => s.pipe(s));
    const c = createServer({ key: key256, cert: cert256 }, (s) => s.pipe(s));
    const [pa, pb, pc] = [await listen(a), await listen(b), await listen(c)];
    const first = await roundTrip(pa);
    expect((await roundTrip(pb, withSession(first.session))).socket.isSessionReused()).toBe(true);
    expect((await roundTrip(pc, withSession(first.session))).socket.isSessionReused()).toBe(false);
    c.setTicketKeys(a.getTicketKeys());
    expect((await roundTrip(pc, withSession(first.session))).socket.isSessionReused()).toBe(true);
    expect(a.getTicketKeys().length).toBe(48);
    await Promise.all([closeServer(a), closeServer(b), closeServer(c)]);
  });

  it('resumes against node:tls (ticket) and node:tls resumes against us', async () => {
    const nserver = nodeTls.createServer({ key: key256, cert: cert256, maxVersion: 'TLSv1.2' }, (s) => s.pipe(s));
    const np = await listen(nserver);
    const first = await roundTrip(np);
    expect(first.session).toBeDefined();
    expect((await roundTrip(np, withSession(first.session))).socket.isSessionReused()).toBe(true);
    await closeServer(nserver);

    const server = createServer({ key: key256, cert: cert256 }, (s) => s.pipe(s));
    const port = await listen(server);
    const nodeConnect = async (session?: Buffer) => {
      const s = nodeTls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', maxVersion: 'TLSv1.2', ...(session === undefined ? {} : { session }) });
      await once(s, 'secureConnect');
      const reused = s.isSessionReused();
      const sess = s.getSession();
      s.end();
      await once(s, 'close');
      return { reused, sess };
    };
    const n1 = await nodeConnect();
    expect(n1.reused).toBe(false);
    expect((await nodeConnect(n1.sess)).reused).toBe(true);
    await closeServer(server);
  });
});

describe('ALPN and mutual TLS over sockets', () => {
  it('ALPN with node:tls both ways; mismatch → no_application_protocol', async () => {
    const server = createServer({ key: key256, cert: cert256, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => s.pipe(s));
    const port = await listen(server);
    const n = nodeTls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    await once(n, 'secureConnect');
    expect(n.alpnProtocol).toBe('http/1.1');
    n.end();
    const ours = await roundTrip(port, { ALPNProtocols: ['h2'] });
    expect(ours.socket.alpnProtocol).toBe('h2');
    const bad = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['spdy/3'] });
    const err = await new Promise<Error>((r) => bad.once('error', r));
    expect(err.message).toMatch(/no_application_protocol/);
    await closeServer(server);

    const nserver = nodeTls.createServer({ key: key256, cert: cert256, ALPNProtocols: ['x', 'h2'] }, (s) => s.pipe(s));
    const np = await listen(nserver);
    expect((await roundTrip(np, { ALPNProtocols: ['h2', 'x'] })).socket.alpnProtocol).toBe('x');
    await closeServer(nserver);
  });

  it('requestCert: our server verifies our and node:tls clients (ECDSA and RSA certs), getPeerCertificate on the server', async () => {
    const seen: { authorized: boolean; cn: unknown }[] = [];
    const server = createServer({ key: key256, cert: cert256, ca: [ca, caRsa], requestCert: true }, (s) => {
      const pc = s.getPeerCertificate();
      seen.push({ authorized: s.authorized, cn: pc !== null && 'subject' in pc ? pc.subject.CN : undefined });
      s.pipe(s);
    });
    const errors: Error[] = [];
    server.on('tlsClientError', (e: Error) => errors.push(e));
    const port = await listen(server);
    expect((await roundTrip(port, { cert: clientCert, key: clientKey })).echoed).toBe('hi');
    expect((await roundTrip(port, { cert: certRsa, key: keyRsa })).echoed).toBe('hi');
    const n = nodeTls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', cert: clientCert, key: clientKey, maxVersion: 'TLSv1.2' });
    await once(n, 'secureConnect');
    n.end();
    await once(n, 'close');
    expect(seen).toEqual([
      { authorized: true, cn: 'localhost' },
      { authorized: true, cn: 'localhost' },
      { authorized: true, cn: 'localhost' },
    ]);
    // Unknown CA → alert, server keeps serving.
    const bad = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', cert: fixture('self-signed.pem'), key: fixture('self-signed.key') });
    const err = await new Promise<Error>((r) => bad.once('error', r));
    expect(err.message).toMatch(/unknown_ca/);
    expect(errors.length).toBe(1);
    await closeServer(server);
  });

  it('our client presents its certificate to a node:tls server that requires one', async () => {
    const nserver = nodeTls.createServer({ key: key256, cert: cert256, ca, requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' }, (s) => {
      s.end(s.authorized ? 'ok' : 'no');
    });
    const np = await listen(nserver);
    const s = connect({ host: '127.0.0.1', port: np, ca, servername: 'localhost', cert: clientCert, key: clientKey });
    await secure(s);
    expect((await readAll(s)).toString()).toBe('ok');
    await closeServer(nserver);
  });

  it('maxFragmentLength 512 against our server carries 100 kB both ways', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.pipe(s));
    const port = await listen(server);
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', maxFragmentLength: 512 });
    await secure(s);
    const payload = Buffer.alloc(100_000, 0x5a);
    s.write(payload);
    let got = 0;
    for await (const c of s) {
      got += (c as Buffer).length;
      if (got >= payload.length) break;
    }
    expect(got).toBe(payload.length);
    s.destroy();
    await closeServer(server);
  });
});
