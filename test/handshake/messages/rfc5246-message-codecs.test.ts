/**
 * Go-style codec properties for every handshake message (RFC 5246 §7.4, RFC 5077 §3.3):
 * random round trips, every truncated prefix rejected, trailing bytes rejected, fuzzing.
 */
import { describe, expect, it } from 'vitest';
import { decodeHandshake, encodeHandshake } from '../../../src/handshake/messages/handshake.ts';
import { cases, type CodecCase } from './cases.ts';
import { Xorshift, decodesOrTlsError, expectDecodeError, mutate } from './helpers.ts';

function decodeFramed(c: CodecCase, raw: Uint8Array): unknown {
  return c.decode(decodeHandshake(raw).body);
}

for (const c of cases) {
  describe(`${c.section} ${c.name}`, () => {
    it('round-trips typical and edge values', () => {
      expect(c.samples().length).toBeGreaterThan(0);
    });

    it('round-trips 300 random messages (seeded xorshift)', () => {
      const rng = new Xorshift(0x5eed0000 + c.type);
      for (let i = 0; i < 300; i++) c.randomRoundTrip(rng);
    });

    it('rejects every truncated prefix of the framed message with DecodeError', () => {
      const rng = new Xorshift(0x7a11 + c.type);
      for (let k = 0; k < 5; k++) {
        const raw = encodeHandshake(c.type, c.randomRoundTrip(rng));
        for (let n = 0; n < raw.length; n++) expectDecodeError(() => decodeFramed(c, raw.subarray(0, n)));
        expect(decodeFramed(c, raw)).toBeDefined();
      }
    });

    if (c.bodyPrefixes !== 'opaque') {
      it('rejects truncated bodies with DecodeError', () => {
        const rng = new Xorshift(0xb0d1 + c.type);
        for (let k = 0; k < 5; k++) {
          const body = c.randomRoundTrip(rng);
          for (let n = 0; n < body.length; n++) {
            const prefix = body.subarray(0, n);
            if (c.bodyPrefixes === 'optional-tail') {
              // Only the prefix that stops exactly before the extensions block may decode (as a
              // hello without extensions, RFC 5246 §7.4.1.2); every other prefix is malformed.
              if (decodesOrTlsError(() => c.decode(prefix))) {
                expect(c.decode(prefix)).toMatchObject({ extensions: [] });
              } else {
                expectDecodeError(() => c.decode(prefix));
              }
            } else {
              expectDecodeError(() => c.decode(prefix));
            }
          }
        }
      });

      it('rejects trailing bytes with DecodeError', () => {
        const rng = new Xorshift(0x7a1 + c.type);
        for (let k = 0; k < 20; k++) {
          const body = c.randomRoundTrip(rng);
          const extra = rng.bytes(rng.range(1, 3));
          const longer = Uint8Array.of(...body, ...extra);
          // For hellos, one or two stray bytes can never form a valid extensions block either.
          expectDecodeError(() => c.decode(longer));
        }
      });
    } else {
      it('keeps any body opaque (the key exchange decodes it)', () => {
        const rng = new Xorshift(0x0a + c.type);
        const body = rng.bytes(50);
        for (let n = 0; n <= body.length; n++) expect(c.decode(body.subarray(0, n))).toEqual({ body: body.slice(0, n) });
      });
    }

    it('throws only TlsError on random and mutated bytes', () => {
      const rng = new Xorshift(0xf022 + c.type);
      let rejected = 0;
      for (let i = 0; i < 1000; i++) {
        const input = rng.bool() ? rng.bytes(rng.range(0, 200)) : mutate(rng, c.randomRoundTrip(rng));
        if (!decodesOrTlsError(() => c.decode(input))) rejected++;
        if (!decodesOrTlsError(() => decodeFramed(c, input))) rejected++;
      }
      // The framed form of random bytes almost never has a matching length header.
      expect(rejected).toBeGreaterThan(700);
    });
  });
}
