import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { loadCertificates, toPeerCertificate, type PeerCertificate } from '../../src/x509/index.ts';
import { fixture } from './helpers.ts';

/** getPeerCertificate(true) from a real node:tls connection presenting `chainFile`. */
async function nodePeer(chainFile: string, keyFile: string, caFile: string): Promise<tls.DetailedPeerCertificate> {
  const server = tls.createServer({ cert: fixture(chainFile), key: fixture(keyFile), maxVersion: 'TLSv1.2' }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const sock = tls.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ca: fixture(caFile), rejectUnauthorized: false });
    await once(sock, 'secureConnect');
    const peer = sock.getPeerCertificate(true);
    sock.destroy();
    return peer;
  } finally {
    server.close();
  }
}

const fields = ['subject', 'issuer', 'subjectaltname', 'ca', 'modulus', 'exponent', 'bits', 'asn1Curve', 'nistCurve', 'valid_from', 'valid_to', 'fingerprint', 'fingerprint256', 'fingerprint512', 'ext_key_usage', 'serialNumber'] as const;

function comparable(p: object): Record<string, unknown> {
  const src = p as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (src[f] !== undefined) out[f] = f === 'subject' || f === 'issuer' ? { ...(src[f] as object) } : src[f];
  out.raw = Buffer.from(src.raw as Uint8Array).toString('hex');
  out.pubkey = Buffer.from(src.pubkey as Uint8Array).toString('hex');
  return out;
}

describe('toPeerCertificate matches node:tls getPeerCertificate(true)', () => {
  for (const [chain, key, ca] of [
    ['server-ec256.pem', 'server-ec256.key', 'ca-ec.pem'],
    ['server-ec384.pem', 'server-ec384.key', 'ca-ec.pem'],
    ['chain-leaf.pem', 'chain-leaf.key', 'ca-ec.pem'],
    ['server-rsa2048.pem', 'server-rsa2048.key', 'ca-rsa.pem'],
    ['self-signed.pem', 'self-signed.key', 'ca-ec.pem'],
    ['wildcard.pem', 'wildcard.key', 'ca-ec.pem'],
  ] as const) {
    it(chain, async () => {
      const theirs = await nodePeer(chain, key, ca);
      const sent = loadCertificates(fixture(chain));
      const leaf = sent[0];
      if (leaf === undefined) throw new Error('fixture');
      const ours = toPeerCertificate(leaf, true, [...sent.slice(1), ...loadCertificates(fixture(ca))]);
      // Walk both issuer chains together.
      let a: PeerCertificate | undefined = ours;
      let b: tls.DetailedPeerCertificate | undefined = theirs;
      let depth = 0;
      for (; a !== undefined || b !== undefined; depth++) {
        if (a === undefined || b === undefined || depth > 5) throw new Error(`issuer chains differ in length at depth ${depth}`);
        expect(comparable(a)).toEqual(comparable(b));
        const selfA = a.issuerCertificate === a;
        const selfB = b.issuerCertificate === b;
        expect(selfA).toBe(selfB);
        if (selfA) break;
        a = a.issuerCertificate;
        b = b.issuerCertificate;
      }
      expect(depth).toBeGreaterThanOrEqual(1);
    });
  }

  // Not compared with node: for a trusted self-signed leaf without keyCertSign, node 20 repeats the
  // store's copy twice (leaf → copy → copy). We link leaf → trusted copy and stop.
  it('trusted self-signed leaf without keyCertSign links once to the anchor', () => {
    const [leaf] = loadCertificates(fixture('self-signed.pem'));
    const [anchor] = loadCertificates(fixture('self-signed.pem'));
    if (leaf === undefined || anchor === undefined) throw new Error('fixture');
    const p = toPeerCertificate(leaf, true, [anchor]);
    expect(p.issuerCertificate?.fingerprint256).toBe(p.fingerprint256);
    expect(p.issuerCertificate).not.toBe(p);
    expect(p.issuerCertificate?.issuerCertificate).toBeUndefined();
  });

  it('without detailed, no issuerCertificate', () => {
    const [leaf] = loadCertificates(fixture('server-ec256.pem'));
    if (leaf === undefined) throw new Error('fixture');
    const p = toPeerCertificate(leaf);
    expect(p.issuerCertificate).toBeUndefined();
    expect(p.valid_from).toBe('Jan  1 00:00:00 2025 GMT');
    expect(p.serialNumber).toBe('1001');
  });
});
