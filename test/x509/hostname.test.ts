import tls, { type PeerCertificate as NodePeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { checkServerIdentity, loadCertificates, parseIp, type AltNameEntry, type Certificate } from '../../src/x509/index.ts';
import { fixture } from './helpers.ts';

const base = loadCertificates(fixture('wildcard.pem'))[0] as Certificate;

/** The same fixture certificate with other names, so ours and node's can be fed identical inputs. */
function withNames(dns: string[], ips: string[], cn?: string): { ours: Certificate; node: NodePeerCertificate } {
  const entries: AltNameEntry[] = [
    ...dns.map((value): AltNameEntry => ({ type: 'DNS', value })),
    ...ips.map((value): AltNameEntry => ({ type: 'IP', value, bytes: parseIp(value) ?? new Uint8Array() })),
  ];
  const ours: Certificate = {
    ...base,
    subject: { raw: base.subject.raw, attributes: cn === undefined ? [] : [{ type: 'CN', value: cn }] },
    subjectAltNames: { dns, ip: ips },
    altNameEntries: entries,
  };
  const san = entries.map((e) => (e.type === 'IP' ? `IP Address:${e.value}` : e.type === 'other' ? '' : `${e.type}:${e.value}`)).join(', ');
  const node = { subject: cn === undefined ? {} : { CN: cn }, subjectaltname: san || undefined } as unknown as NodePeerCertificate;
  return { ours, node };
}

describe('RFC 6125 §6.4 checkServerIdentity (node:tls semantics)', () => {
  it('wildcard fixture: *.example.com matches one label only', () => {
    expect(checkServerIdentity('a.example.com', base)).toBeUndefined();
    expect(checkServerIdentity('A.Example.COM.', base)).toBeUndefined();
    expect(checkServerIdentity('a.b.example.com', base)).toBeInstanceOf(Error);
    expect(checkServerIdentity('example.com', base)).toBeInstanceOf(Error);
    const err = checkServerIdentity('example.com', base) as Error & { code: string; reason: string; host: string };
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(err.host).toBe('example.com');
    const nodeErr = tls.checkServerIdentity('example.com', { subject: { CN: '*.example.com' }, subjectaltname: 'DNS:*.example.com' } as unknown as NodePeerCertificate);
    expect(err.message).toBe(nodeErr?.message);
  });

  const patterns: [string[], string[], string | undefined][] = [
    [['*.example.com'], [], undefined],
    [['example.com', 'www.example.com'], [], 'other.com'],
    [['*.com'], [], undefined],
    [['f*.example.com'], [], undefined],
    [['*o.example.com'], [], undefined],
    [['a*b.example.com'], [], undefined],
    [['*.*.example.com'], [], undefined],
    [['xn--*.example.com'], [], undefined],
    [['*'], [], undefined],
    [['bad..example.com'], [], undefined],
    [['ünï.example.com'], [], undefined],
    [[], [], 'cn.example.com'],
    [[], [], '*.example.com'],
    [[], ['127.0.0.1'], 'localhost'],
    [['localhost'], ['127.0.0.1', '::1', '2001:db8::5'], 'ignored.example'],
    [['ignored.example'], [], 'localhost'],
  ];
  const hosts = [
    'example.com',
    'www.example.com',
    'a.example.com',
    'a.b.example.com',
    'foo.example.com',
    'o.example.com',
    'ab.example.com',
    'axb.example.com',
    'xn--abc.example.com',
    'com',
    'cn.example.com',
    'localhost',
    'LOCALHOST.',
    '127.0.0.1',
    '127.0.0.2',
    '::1',
    '0:0:0:0:0:0:0:1',
    '2001:DB8:0:0:0:0:0:5',
    '[::1]',
    'other.com',
    'ignored.example',
    'ünï.example.com',
  ];
  for (const [dns, ips, cn] of patterns) {
    it(`agrees with node for SAN ${JSON.stringify([...dns, ...ips])} CN ${cn ?? '-'}`, () => {
      const { ours, node } = withNames(dns, ips, cn);
      for (const host of hosts) {
        const mine = checkServerIdentity(host, ours);
        const theirs = tls.checkServerIdentity(host, node);
        expect([host, mine === undefined]).toEqual([host, theirs === undefined]);
      }
    });
  }

  it('parses IP literals strictly', () => {
    expect(parseIp('127.0.0.1')).toEqual(Uint8Array.of(127, 0, 0, 1));
    expect(parseIp('::ffff:1.2.3.4')).toEqual(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4));
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1::2::3', ':::', '12345::', 'fe80::1%eth0', 'host', '1:2:3:4:5:6:7:8:9']) {
      expect(parseIp(bad)).toBeUndefined();
    }
  });
});
