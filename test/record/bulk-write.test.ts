/**
 * The bulk write path (Aead.sealInto → RecordProtection.protectInto → one buffer per
 * RecordLayer.write) must produce exactly the bytes of the per-record path, for every AEAD and
 * provider, and those bytes must open again record by record.
 */
import { describe, expect, it } from 'vitest';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { nodeAeadProvider } from '../../src/crypto/aead/node.ts';
import type { AeadProvider } from '../../src/crypto/aead/provider.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { aeadProtection, type RecordProtection } from '../../src/record/protection.ts';
import { RecordLayer } from '../../src/record/record-layer.ts';
import { Aeads, type AeadDescriptor } from '../../src/suites.ts';

const providers: readonly AeadProvider[] = [nobleAeadProvider, nodeAeadProvider];
const descs: readonly AeadDescriptor[] = [Aeads.aes128gcm, Aeads.aes256gcm, Aeads.chacha20poly1305];

function keyFor(d: AeadDescriptor): { key: Uint8Array; iv: Uint8Array } {
  return {
    key: new Uint8Array(d.keyLength).map((_, i) => i * 13 + 1),
    iv: new Uint8Array(d.fixedIvLength).map((_, i) => 200 - i),
  };
}

/** The same protection without its bulk methods: forces the record layer's per-record path. */
function withoutBulk(p: RecordProtection): RecordProtection {
  return {
    ...(p.overhead === undefined ? {} : { overhead: p.overhead }),
    protect: (t, v, pt, seq) => p.protect(t, v, pt, seq),
    unprotect: (t, v, f, seq) => p.unprotect(t, v, f, seq),
  };
}

function layer(write: RecordProtection, read?: RecordProtection): RecordLayer {
  const l = new RecordLayer();
  l.setPendingWrite(write);
  l.activateWrite();
  if (read !== undefined) {
    l.setPendingRead(read);
    l.activateRead();
  }
  return l;
}

describe('bulk record write path', () => {
  it('node provider allocate: exact-size own memory, never a view into the Buffer pool', () => {
    for (const n of [1, 29, 4096, 65652]) {
      const b = nodeAeadProvider.allocate?.(n);
      expect(b).toBeInstanceOf(Uint8Array);
      expect(b?.length).toBe(n);
      expect(b?.byteOffset).toBe(0);
      expect(b?.buffer.byteLength).toBe(n);
    }
  });

  const data = new Uint8Array(3 * 16384 + 1234).map((_, i) => (i * 31) ^ (i >> 8));
  for (const provider of providers) {
    for (const d of descs) {
      it(`${provider.name} ${d.name}: sealInto equals seal`, () => {
        const { key } = keyFor(d);
        const aead = provider.create(d.name, key);
        expect(aead.sealInto).toBeTypeOf('function');
        const nonce = new Uint8Array(12).fill(9);
        const aad = new Uint8Array(13).fill(3);
        const pt = data.subarray(0, 5000);
        const out = new Uint8Array(7 + pt.length + 16 + 5).fill(0xee);
        const n = aead.sealInto?.(nonce, aad, pt, out, 7);
        expect(n).toBe(pt.length + 16);
        expect(out.subarray(7, 7 + pt.length + 16)).toEqual(aead.seal(nonce, aad, pt));
        // Bytes outside the target range are untouched.
        expect(out.subarray(0, 7).every((b) => b === 0xee)).toBe(true);
        expect(out.subarray(7 + pt.length + 16).every((b) => b === 0xee)).toBe(true);
      });

      it(`${provider.name} ${d.name}: one-buffer write equals per-record write and reads back`, () => {
        const { key, iv } = keyFor(d);
        const bulk = layer(aeadProtection(d, key, iv, provider));
        const plain = layer(withoutBulk(aeadProtection(d, key, iv, provider)));
        for (const piece of [data, new Uint8Array(0), data.subarray(0, 16384), data.subarray(100, 117)]) {
          const a = bulk.write(ContentType.application_data, piece);
          const b = plain.write(ContentType.application_data, piece);
          expect(a).toEqual(b);
          expect(bulk.writeSequence).toBe(plain.writeSequence);
        }
        // Read all of it back with the other provider (interop between providers).
        const other = providers.find((p) => p !== provider) ?? provider;
        const reader = layer(aeadProtection(d, key, iv, other), aeadProtection(d, key, iv, other));
        const w2 = layer(aeadProtection(d, key, iv, provider));
        reader.push(w2.write(ContentType.application_data, data));
        const got: Uint8Array[] = [];
        for (let r = reader.read(); r !== undefined; r = reader.read()) got.push(r.data);
        expect(got.map((g) => g.length)).toEqual([16384, 16384, 16384, 1234]);
        expect(Buffer.concat(got)).toEqual(Buffer.from(data));
      });
    }
  }
});
