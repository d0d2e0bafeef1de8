/**
 * The LDAP message layer on its own: known encodings (as OpenLDAP's liblber writes them, long
 * length forms included), round trips, and the bounds — oversized lengths, indefinite lengths,
 * multi-byte tags, depth bombs — each a typed BerError. Then the decoder fuzzed with fast-check:
 * any input returns or throws BerError, never anything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BerError, berInteger, BerReader, berTlv, validateBer } from '../../src/ldap/ber.ts';
import {
  appendControl,
  decodeBindRequest,
  decodeExtendedRequestName,
  decodeLdapResult,
  decodeSearchResultEntry,
  encodeBindRequest,
  encodeBindResponse,
  encodeNoticeOfDisconnection,
  encodeSearchRequest,
  LdapFramer,
  MAX_BER_DEPTH,
  NOTICE_OF_DISCONNECTION_OID,
  Op,
  parseEnvelope,
  proxiedAuthorizationControl,
  PROXIED_AUTHZ_OID,
  STARTTLS_OID,
} from '../../src/ldap/messages.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('BER integers', () => {
  it.each([
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [-1, '0201ff'],
    [-129, '0202ff7f'],
    [2147483647, '02047fffffff'],
    [-2147483648, '020480000000'],
  ])('%d ⇄ %s', (n, h) => {
    expect(Buffer.from(berInteger(n)).toString('hex')).toBe(h);
    expect(new BerReader(hex(h)).integer()).toBe(n);
  });

  it('refuses empty and over-long integers', () => {
    expect(() => new BerReader(hex('0200')).integer()).toThrow(BerError);
    expect(() => new BerReader(hex('02050080000000')).integer()).toThrow(BerError);
  });
});

describe('LDAP messages', () => {
  it('decodes a simple bind as ldapwhoami sends it (liblber long-form lengths)', () => {
    // 30 84 <len> 02 01 01 60 84 <len> 02 01 03 04 <dn> 80 <pw>: liblber writes 4-byte lengths.
    const dn = Buffer.from('uid=alice,ou=people,dc=example,dc=org');
    const pw = Buffer.from('mpin-token:abc');
    const bind = Buffer.concat([hex('020103'), Buffer.of(0x04, dn.length), dn, Buffer.of(0x80, pw.length), pw]);
    const op = Buffer.concat([hex('60 84'), Buffer.from([0, 0, 0, bind.length]), bind]);
    const body = Buffer.concat([hex('020101'), op]);
    const msg = Buffer.concat([hex('30 84'), Buffer.from([0, 0, 0, body.length]), body]);
    const env = parseEnvelope(Uint8Array.from(msg));
    expect(env.messageId).toBe(1);
    expect(env.opTag).toBe(Op.BindRequest);
    const req = decodeBindRequest(env);
    expect(req).toMatchObject({ version: 3, name: 'uid=alice,ou=people,dc=example,dc=org', auth: { kind: 'simple' } });
    expect(req.auth.kind === 'simple' && Buffer.from(req.auth.password).toString()).toBe('mpin-token:abc');
  });

  it('round-trips our own encodings', () => {
    const bind = decodeBindRequest(parseEnvelope(encodeBindRequest(7, 'cn=x', 'pw')));
    expect(bind.name).toBe('cn=x');
    const res = decodeLdapResult(parseEnvelope(encodeBindResponse(7, 49, 'nope')));
    expect(res).toEqual({ resultCode: 49, matchedDN: '', diagnosticMessage: 'nope' });
    const notice = parseEnvelope(encodeNoticeOfDisconnection(2, 'bad'));
    expect(notice.messageId).toBe(0);
    expect(notice.opTag).toBe(Op.ExtendedResponse);
    expect(Buffer.from(notice.raw).includes(Buffer.from(NOTICE_OF_DISCONNECTION_OID))).toBe(true);
    const search = parseEnvelope(encodeSearchRequest(3, { base: 'dc=example,dc=org', scope: 2, filter: { equals: ['mail', 'a@b'] }, attributes: ['mail'] }));
    expect(search.opTag).toBe(Op.SearchRequest);
  });

  it('reads the StartTLS request name', () => {
    const req = berTlv(0x30, berInteger(1), berTlv(Op.ExtendedRequest, Uint8Array.from([0x80, STARTTLS_OID.length, ...Buffer.from(STARTTLS_OID)])));
    expect(decodeExtendedRequestName(parseEnvelope(req))).toBe(STARTTLS_OID);
  });

  it('decodes a search result entry, attribute names case-insensitively', () => {
    const attr = (t: string, ...v: string[]): Uint8Array => berTlv(0x30, berTlv(0x04, Buffer.from(t)), berTlv(0x31, ...v.map((x) => berTlv(0x04, Buffer.from(x)))));
    const entry = berTlv(0x30, berInteger(2), berTlv(Op.SearchResultEntry, berTlv(0x04, Buffer.from('uid=a,dc=x')), berTlv(0x30, attr('Mail', 'a@x', 'b@x'))));
    const e = decodeSearchResultEntry(parseEnvelope(entry));
    expect(e.dn).toBe('uid=a,dc=x');
    expect(e.attributes.get('mail')).toEqual(['a@x', 'b@x']);
  });

  it('appends a proxied-authorization control, keeping existing controls and the request bytes', () => {
    const base = encodeSearchRequest(5, { base: '', scope: 0, filter: { present: 'objectClass' }, attributes: [] });
    const once = parseEnvelope(appendControl(parseEnvelope(base), proxiedAuthorizationControl('uid=a,dc=x')));
    expect(once.messageId).toBe(5);
    expect(Buffer.from(once.raw.subarray(once.op.start, once.op.end))).toEqual(Buffer.from(parseEnvelope(base).raw.subarray(parseEnvelope(base).op.start)));
    const twice = parseEnvelope(appendControl(once, { oid: '1.2.3', critical: false }));
    const ctl = new BerReader(twice.raw, twice.controls?.valueStart, twice.controls?.end);
    const oids: string[] = [];
    while (!ctl.done) oids.push(ctl.enter(0x30, 'Control').string());
    expect(oids).toEqual([PROXIED_AUTHZ_OID, '1.2.3']);
  });
});

describe('bounds (each a typed BerError)', () => {
  const framer = (): LdapFramer => new LdapFramer(1024);

  it('refuses an announced length over the limit before buffering it', () => {
    const f = framer();
    expect(() => f.push(hex('30 84 7fffffff 02'))).toThrow(/exceeds the limit/);
  });

  it('refuses indefinite lengths, 5-octet lengths and multi-byte tags', () => {
    expect(() => framer().push(hex('30 80 0201 01 0000'))).toThrow(BerError);
    expect(() => framer().push(hex('30 85 0000000001 00'))).toThrow(BerError);
    expect(() => parseEnvelope(hex('30 05 020101 1f01'))).toThrow(BerError);
  });

  it('refuses a message that is not a SEQUENCE at its first byte', () => {
    expect(() => framer().push(hex('16 03 01'))).toThrow(/SEQUENCE/); // a TLS ClientHello on the plain port
  });

  it('refuses an inner length running past its parent', () => {
    expect(() => parseEnvelope(hex('30 06 020101 6005 0201'))).toThrow(BerError);
  });

  it('refuses a nesting bomb deeper than the limit, accepts the limit', () => {
    const nest = (depth: number): Uint8Array => {
      let v: Uint8Array = berTlv(0x04, Uint8Array.of(1));
      for (let i = 0; i < depth; i++) v = berTlv(0xa0, v);
      return berTlv(0x30, berInteger(1), berTlv(Op.SearchRequest, v));
    };
    expect(() => parseEnvelope(nest(MAX_BER_DEPTH - 2))).not.toThrow();
    expect(() => parseEnvelope(nest(1000))).toThrow(/deeper than/);
  });

  it('frames messages split at every byte and glued together', () => {
    const a = encodeBindRequest(1, 'cn=a', 'x');
    const b = encodeBindResponse(2, 0);
    const all = Buffer.concat([a, b, a]);
    const f = framer();
    const out: Uint8Array[] = [];
    for (const byte of all) out.push(...f.push(Uint8Array.of(byte)));
    expect(out.map((m) => Buffer.from(m).toString('hex'))).toEqual([a, b, a].map((m) => Buffer.from(m).toString('hex')));
    expect(f.buffered).toBe(0);
  });
});

describe('fuzz: decoders return or throw BerError', () => {
  const decodeAll = (input: Uint8Array): void => {
    const f = new LdapFramer(4096);
    for (const m of f.push(input)) {
      const env = parseEnvelope(m);
      for (const decode of [decodeBindRequest, decodeLdapResult, decodeSearchResultEntry, decodeExtendedRequestName]) {
        try {
          decode(env);
        } catch (e) {
          if (!(e instanceof BerError)) throw e;
        }
      }
      appendControl(env, proxiedAuthorizationControl('uid=x'));
    }
  };
  const typedOnly = (input: Uint8Array): boolean => {
    try {
      decodeAll(input);
    } catch (e) {
      if (!(e instanceof BerError)) throw e;
    }
    return true;
  };
  const seeds = [
    encodeBindRequest(1, 'uid=alice,ou=people,dc=example,dc=org', 'mpin-token:AAAA'),
    encodeBindResponse(1, 49, 'x'),
    encodeSearchRequest(2, { base: 'dc=x', scope: 2, filter: { equals: ['mail', 'a@x'] }, attributes: ['mail', 'uid'] }),
    encodeNoticeOfDisconnection(2, 'bye'),
  ];

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), typedOnly), { numRuns: 2000 });
  });

  it('mutated valid messages (byte flips, truncation, insertion)', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { maxLength: 6 }))
      .map(([seed, edits]) => {
        let b = Array.from(seed);
        for (const [pos, val, op] of edits) {
          const i = b.length === 0 ? 0 : pos % b.length;
          if (op === 'set') b[i] = val;
          else if (op === 'cut') b = b.slice(0, i);
          else b.splice(i, 0, val);
        }
        return Uint8Array.from(b);
      });
    fc.assert(fc.property(mutated, typedOnly), { numRuns: 3000 });
  });

  it('structured BER trees (valid framing, random content)', () => {
    const leaf = fc.tuple(fc.constantFrom(0x02, 0x04, 0x0a, 0x80, 0x87, 0x01, 0x05), fc.uint8Array({ maxLength: 8 })).map(([t, v]) => berTlv(t, v));
    const tree = fc.letrec<{ node: Uint8Array }>((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.tuple(fc.constantFrom(0x30, 0x31, 0x60, 0x61, 0x63, 0x64, 0x77, 0xa0, 0xa3), fc.array(tie('node'), { maxLength: 4 })).map(([t, kids]) => berTlv(t, ...kids))),
    })).node;
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 4 }), fc.nat(0x7fffffff), (kids, id) => typedOnly(berTlv(0x30, berInteger(id), ...kids))),
      { numRuns: 2000 },
    );
  });

  it('validateBer work is bounded by the element limit', () => {
    const many = berTlv(0x30, ...Array.from({ length: 2000 }, () => Uint8Array.of(0x05, 0x00)));
    expect(() => validateBer(many, 0, many.length, 4, 1000)).toThrow(/more than 1000/);
  });
});
