/**
 * Issue 11 §4: certificate path building within a budget. A peer that sends a leaf and hundreds
 * of look-alike intermediates (same names, distinct serials and keys, broken signatures) used to
 * make the verifier try every candidate at every depth (~one ECDSA check per intermediate and
 * more) on the event loop. Now: at most MAX_PEER_CERTIFICATES certificates are parsed, at most
 * `maxCandidatesPerDepth` issuers are tried per link, a refused issuer key is never retried, and
 * the verification stops after `maxSignatureChecks` checks → bad_certificate. Counted, not timed.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type ConnectionOptions, type Server } from '../../src/index.ts';
import { MAX_PEER_CERTIFICATES } from '../../src/handshake/common.ts';
import { DEFAULT_CHAIN_BUDGET, parseCertificate, verifyChain, type Certificate } from '../../src/x509/index.ts';
import { nobleSignatures, type SignatureBackend } from '../../src/x509/signature.ts';
import { closeServer, listen } from '../api/helpers.ts';
import { ecKey, forgeCertificate, keyPem, monsterChain, pemOf } from './forge.ts';

const anchorKeys = ecKey();
const anchorDer = forgeCertificate({ subject: 'Trusted CA', issuer: 'Trusted CA', publicKey: anchorKeys.publicKey, signer: anchorKeys.privateKey, serial: 1n, ca: true });
const anchor = parseCertificate(anchorDer);
const now = new Date('2026-06-01T00:00:00Z');

/** A backend that counts the signature checks it performs. */
function counting(): { backend: SignatureBackend; count: () => number } {
  let n = 0;
  const backend: SignatureBackend = {
    ...nobleSignatures,
    ecdsaVerify: (...a: Parameters<SignatureBackend['ecdsaVerify']>) => {
      n++;
      return nobleSignatures.ecdsaVerify(...a);
    },
  };
  return { backend, count: () => n };
}

/** A legitimate client chain: anchor → intermediate → leaf. */
function goodChain(): { leaf: Uint8Array; intermediate: Uint8Array; leafKey: ReturnType<typeof ecKey>['privateKey']; interKeys: ReturnType<typeof ecKey> } {
  const interKeys = ecKey();
  const leafKeys = ecKey();
  const intermediate = forgeCertificate({ subject: 'Real Intermediate', issuer: 'Trusted CA', publicKey: interKeys.publicKey, signer: anchorKeys.privateKey, serial: 2n, ca: true });
  const leaf = forgeCertificate({ subject: 'client', issuer: 'Real Intermediate', publicKey: leafKeys.publicKey, signer: interKeys.privateKey, serial: 3n, ca: false, dnsNames: ['localhost'] });
  return { leaf, intermediate, leafKey: leafKeys.privateKey, interKeys };
}

describe('verifyChain budget (issue 11 §4)', () => {
  it('a leaf with 500 look-alike intermediates costs at most maxSignatureChecks checks and is refused', () => {
    const m = monsterChain(500, { trustedName: 'Trusted CA' });
    const chain = [m.leaf, ...m.intermediates].map((d) => parseCertificate(d));
    const { backend, count } = counting();
    const r = verifyChain(chain, { ca: [anchor], now, purpose: 'client', signatures: backend });
    expect(r.authorized).toBe(false);
    expect(r.authorized === false && r.code).toBe('CHAIN_BUDGET_EXCEEDED');
    expect(count()).toBe(DEFAULT_CHAIN_BUDGET.maxSignatureChecks);
    // Without the budget the same chain took ~500+ checks (one per candidate per depth).
    const tight = counting();
    const r2 = verifyChain(chain, { ca: [anchor], now, purpose: 'client', signatures: tight.backend, budget: { maxSignatureChecks: 3 } });
    expect(r2.authorized === false && r2.code).toBe('CHAIN_BUDGET_EXCEEDED');
    expect(tight.count()).toBe(3);
  });

  it('look-alikes that reuse one key cost one check per certificate, not one per candidate', () => {
    const g = goodChain();
    const shared = ecKey();
    // Eight look-alikes of the leaf's issuer, all with the same (wrong) key, listed before the real one.
    const fakes = Array.from({ length: 8 }, (_, i) =>
      forgeCertificate({ subject: 'Real Intermediate', issuer: 'Trusted CA', publicKey: shared.publicKey, signer: shared.privateKey, serial: 100n + BigInt(i), ca: true }),
    );
    const chain = [g.leaf, ...fakes, g.intermediate].map((d) => parseCertificate(d));
    const { backend, count } = counting();
    const r = verifyChain(chain, { ca: [anchor], now, purpose: 'client', signatures: backend, budget: { maxCandidatesPerDepth: 16 } });
    // The shared key is refused once for the leaf, then the real intermediate verifies; then the anchor link.
    expect(r).toEqual({ authorized: true });
    expect(count()).toBe(3);
  });

  it('a legitimate chain with a couple of cross-signed look-alikes still verifies within the defaults', () => {
    const g = goodChain();
    // Two look-alikes of the real intermediate (same name, other keys, broken signatures), listed first.
    const lookAlikes = [0, 1].map((i) => {
      const k = ecKey();
      return forgeCertificate({ subject: 'Real Intermediate', issuer: 'Trusted CA', publicKey: k.publicKey, signer: k.privateKey, serial: 50n + BigInt(i), ca: true, breakSignature: true });
    });
    const chain: Certificate[] = [g.leaf, ...lookAlikes, g.intermediate].map((d) => parseCertificate(d));
    const { backend, count } = counting();
    expect(verifyChain(chain, { ca: [anchor], now, purpose: 'client', signatures: backend })).toEqual({ authorized: true });
    expect(count()).toBeLessThanOrEqual(DEFAULT_CHAIN_BUDGET.maxSignatureChecks);
  });

  it('more candidates than maxCandidatesPerDepth: only the first ones are tried', () => {
    const g = goodChain();
    const lookAlikes = Array.from({ length: 6 }, (_, i) => {
      const k = ecKey();
      return forgeCertificate({ subject: 'Real Intermediate', issuer: 'Trusted CA', publicKey: k.publicKey, signer: k.privateKey, serial: 60n + BigInt(i), ca: true });
    });
    const chain = [g.leaf, ...lookAlikes, g.intermediate].map((d) => parseCertificate(d));
    const { backend, count } = counting();
    const r = verifyChain(chain, { ca: [anchor], now, purpose: 'client', signatures: backend });
    // The real intermediate is the 7th candidate: never reached with 4 per depth; the first is kept and fails.
    expect(r.authorized === false && r.code).toBe('CERT_SIGNATURE_FAILURE');
    expect(count()).toBeLessThanOrEqual(DEFAULT_CHAIN_BUDGET.maxCandidatesPerDepth + 2);
  });
});

describe('handshakes with a monster chain (issue 11 §4)', () => {
  const serverKeys = ecKey();
  const serverDer = forgeCertificate({ subject: 'localhost', issuer: 'Trusted CA', publicKey: serverKeys.publicKey, signer: anchorKeys.privateKey, serial: 9n, ca: false, dnsNames: ['localhost'] });
  const caPem = pemOf(anchorDer);
  const monster = monsterChain(500, { trustedName: 'Trusted CA' });
  const monsterPem = [monster.leaf, ...monster.intermediates].map((d) => pemOf(d)).join('');
  // Just under the certificate-count cap: parsed, and path building runs into the budget instead.
  const under = monsterChain(MAX_PEER_CERTIFICATES - 1, { trustedName: 'Trusted CA', levels: 3 });
  const underPem = [under.leaf, ...under.intermediates].map((d) => pemOf(d)).join('');
  let server: Server;
  let port: number;
  const clientErrors: Error[] = [];

  beforeAll(async () => {
    server = createServer({ key: keyPem(serverKeys.privateKey), cert: pemOf(serverDer), ca: caPem, requestCert: true, rejectUnauthorized: true }, (s) => {
      s.on('error', () => undefined);
      s.end('ok');
    });
    server.on('tlsClientError', (e: Error) => clientErrors.push(e));
    port = await listen(server);
  });
  afterAll(async () => {
    await closeServer(server);
  });

  const failWith = async (opts: ConnectionOptions): Promise<Error> => {
    const s = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost', ...opts });
    const [err] = (await once(s, 'error')) as [Error];
    return err;
  };

  it('requestCert server: 500 look-alikes → bad_certificate, and the server keeps serving', async () => {
    const err = await failWith({ cert: monsterPem, key: keyPem(monster.leafKey) });
    expect(err.message).toMatch(/bad_certificate/);
    expect(clientErrors.at(-1)?.message).toMatch(/certificates; at most/);
    const err2 = await failWith({ cert: underPem, key: keyPem(under.leafKey) });
    expect(err2.message).toMatch(/bad_certificate/);
    expect(clientErrors.at(-1)?.message).toMatch(/CHAIN_BUDGET_EXCEEDED|CERT_SIGNATURE_FAILURE/);
    // A legitimate client still gets in.
    const g = goodChain();
    const s = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost', cert: pemOf(g.leaf) + pemOf(g.intermediate), key: keyPem(g.leafKey) });
    s.on('error', () => undefined);
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('ok');
  });

  it('our client against a server sending the monster chain → bad_certificate', async () => {
    const evil = createServer({ key: keyPem(monster.leafKey), cert: monsterPem }, (s) => s.on('error', () => undefined));
    evil.on('tlsClientError', () => undefined);
    const evilPort = await listen(evil);
    const s = connect({ host: '127.0.0.1', port: evilPort, ca: caPem, servername: 'localhost' });
    const [err] = (await once(s, 'error')) as [Error];
    expect(err.message).toMatch(/bad_certificate|at most/);
    await closeServer(evil);
  });
});
