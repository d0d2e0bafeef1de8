import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { nodeAeadProvider } from '../../src/crypto/aead/node.ts';
import type { AeadProvider } from '../../src/crypto/aead/provider.ts';
import type { AeadName } from '../../src/suites.ts';
import { seededRandom } from '../record/helpers.ts';

const h = hexToBytes;

interface Kat {
  readonly name: string;
  readonly alg: AeadName;
  readonly key: string;
  readonly nonce: string;
  readonly aad: string;
  readonly plaintext: string;
  readonly ciphertext: string;
  readonly tag: string;
}

const sunscreen = bytesToHex(
  new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
);

const kats: readonly Kat[] = [
  {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 4 (AES-128, 60-byte plaintext, 20-byte AAD).
    name: 'GCM spec test case 4 (AES-128-GCM)',
    alg: 'AES-128-GCM',
    key: 'feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plaintext: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    ciphertext: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  {
    // Same document, test case 16 (AES-256).
    name: 'GCM spec test case 16 (AES-256-GCM)',
    alg: 'AES-256-GCM',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plaintext: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    ciphertext: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    name: 'RFC 7539 §2.8.2 ChaCha20-Poly1305',
    alg: 'CHACHA20-POLY1305',
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    nonce: '070000004041424344454647',
    aad: '50515253c0c1c2c3c4c5c6c7',
    plaintext: sunscreen,
    ciphertext:
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
];

const providers: readonly AeadProvider[] = [nobleAeadProvider, nodeAeadProvider];
const algs: readonly AeadName[] = ['AES-128-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305'];
const keyLen = (a: AeadName): number => (a === 'AES-128-GCM' ? 16 : 32);

describe.each(providers.map((p) => [p.name, p] as const))('AEAD provider %s', (_name, provider) => {
  for (const k of kats) {
    it(`${k.name}: seal gives ciphertext ‖ tag, open recovers the plaintext`, () => {
      const aead = provider.create(k.alg, h(k.key));
      const sealed = aead.seal(h(k.nonce), h(k.aad), h(k.plaintext));
      expect(bytesToHex(sealed)).toBe(k.ciphertext + k.tag);
      const opened = aead.open(h(k.nonce), h(k.aad), h(k.ciphertext + k.tag));
      expect(opened && bytesToHex(opened)).toBe(k.plaintext);
    });

    it(`${k.name}: every single-bit flip in ciphertext, tag, nonce or AAD fails authentication`, () => {
      const aead = provider.create(k.alg, h(k.key));
      const sealed = h(k.ciphertext + k.tag);
      for (let i = 0; i < sealed.length; i += 3) {
        const bad = sealed.slice();
        bad[i] = (bad[i] as number) ^ (1 << (i % 8));
        expect(aead.open(h(k.nonce), h(k.aad), bad)).toBeUndefined();
      }
      const nonce = h(k.nonce);
      nonce[11] = (nonce[11] as number) ^ 1;
      expect(aead.open(nonce, h(k.aad), sealed)).toBeUndefined();
      const aad = h(k.aad);
      aad[0] = (aad[0] as number) ^ 0x80;
      expect(aead.open(h(k.nonce), aad, sealed)).toBeUndefined();
    });
  }

  for (const alg of algs) {
    it(`${alg}: sealed input shorter than a tag, truncated or extended, is rejected without throwing`, () => {
      const aead = provider.create(alg, new Uint8Array(keyLen(alg)).fill(9));
      const nonce = new Uint8Array(12);
      const sealed = aead.seal(nonce, new Uint8Array(0), new Uint8Array(40).fill(1));
      for (let n = 0; n < sealed.length; n++) expect(aead.open(nonce, new Uint8Array(0), sealed.subarray(0, n))).toBeUndefined();
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      expect(aead.open(nonce, new Uint8Array(0), longer)).toBeUndefined();
    });

    it(`${alg}: empty plaintext is just a tag and round-trips`, () => {
      const aead = provider.create(alg, new Uint8Array(keyLen(alg)).fill(4));
      const nonce = new Uint8Array(12).fill(2);
      const sealed = aead.seal(nonce, h('00'), new Uint8Array(0));
      expect(sealed.length).toBe(16);
      expect(aead.open(nonce, h('00'), sealed)?.length).toBe(0);
    });

    it(`${alg}: rejects keys of the wrong length`, () => {
      expect(() => provider.create(alg, new Uint8Array(keyLen(alg) + 1))).toThrow(TypeError);
    });
  }
});

describe('noble and node:crypto providers agree', () => {
  it('on random keys, nonces, AAD and plaintexts of many sizes, and open each other’s output', () => {
    const rnd = seededRandom(7539);
    for (const alg of algs) {
      for (const size of [0, 1, 15, 16, 17, 255, 1024, 16384]) {
        const key = rnd.bytes(keyLen(alg));
        const nonce = rnd.bytes(12);
        const aad = rnd.bytes(13);
        const pt = rnd.bytes(size);
        const a = nobleAeadProvider.create(alg, key).seal(nonce, aad, pt);
        const b = nodeAeadProvider.create(alg, key).seal(nonce, aad, pt);
        expect(bytesToHex(a)).toBe(bytesToHex(b));
        expect(bytesToHex(nodeAeadProvider.create(alg, key).open(nonce, aad, a) ?? h('ff'))).toBe(bytesToHex(pt));
        expect(bytesToHex(nobleAeadProvider.create(alg, key).open(nonce, aad, b) ?? h('ff'))).toBe(bytesToHex(pt));
      }
    }
  });

  it('copy the key at creation, so the caller may wipe its buffer', () => {
    for (const p of providers) {
      const key = new Uint8Array(16).fill(1);
      const aead = p.create('AES-128-GCM', key);
      const before = aead.seal(new Uint8Array(12), new Uint8Array(0), h('0102'));
      key.fill(0);
      expect(bytesToHex(aead.seal(new Uint8Array(12), new Uint8Array(0), h('0102')))).toBe(bytesToHex(before));
    }
  });
});

describe('node:crypto provider output', () => {
  it('returns plain Uint8Arrays that own their memory (no Buffer, no shared pool)', () => {
    const aead = nodeAeadProvider.create('AES-128-GCM', new Uint8Array(16));
    const nonce = new Uint8Array(12);
    for (const size of [1, 100, 10000]) {
      const sealed = aead.seal(nonce, new Uint8Array(0), new Uint8Array(size).fill(3));
      const opened = aead.open(nonce, new Uint8Array(0), sealed);
      for (const x of [sealed, opened]) {
        expect(x).toBeInstanceOf(Uint8Array);
        expect(Buffer.isBuffer(x)).toBe(false);
        expect(x?.byteOffset).toBe(0);
        expect(x?.buffer.byteLength).toBe(x?.byteLength);
      }
    }
  });
});
