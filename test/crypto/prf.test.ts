import { describe, expect, it } from 'vitest';
import { createHmac, createHash } from 'node:crypto';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/codec/bytes.ts';
import { extendedMasterSecret, keyBlock, masterSecret, prf, Transcript, transcriptHash, verifyData } from '../../src/crypto/prf.ts';
import { Suites, suiteById } from '../../src/suites.ts';
import { encryptedTranscripts, seededRandom } from '../record/helpers.ts';

const h = hexToBytes;

describe('RFC 5246 §5 PRF', () => {
  // Published TLS 1.2 PRF vectors (IETF TLS list, msg03416; confirmed by the PKCS#11 TC).
  it('P_SHA256, "test label", 100 bytes', () => {
    const out = prf('sha256', h('9bbe436ba940f017b17652849a71db35'), 'test label', h('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(bytesToHex(out)).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  it('P_SHA384, "test label", 148 bytes', () => {
    const out = prf('sha384', h('b80b733d6ceefcdc71566ea48e5567df'), 'test label', h('cd665cf6a8447dd6ff8b27555edb7465'), 148);
    expect(bytesToHex(out)).toBe(
      '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f',
    );
  });

  it('agrees with an independent node:crypto P_hash for random inputs and every length 0..100', () => {
    const rnd = seededRandom(5246);
    const ref = (alg: string, secret: Uint8Array, label: string, seed: Uint8Array, n: number): string => {
      const ls = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
      let a: Buffer = ls;
      const out: Buffer[] = [];
      let len = 0;
      while (len < n) {
        a = createHmac(alg, secret).update(a).digest();
        const b = createHmac(alg, secret).update(Buffer.concat([a, ls])).digest();
        out.push(b);
        len += b.length;
      }
      return Buffer.concat(out).subarray(0, n).toString('hex');
    };
    for (const hash of ['sha256', 'sha384'] as const) {
      for (let n = 0; n <= 100; n += 7) {
        const secret = rnd.bytes(rnd.int(80));
        const seed = rnd.bytes(rnd.int(80));
        expect(bytesToHex(prf(hash, secret, 'key expansion', seed, n))).toBe(ref(hash, secret, 'key expansion', seed, n));
      }
    }
  });

  it('a shorter output is a prefix of a longer one', () => {
    const long = prf('sha256', h('00'), 'x', h('01'), 77);
    expect(bytesToHex(prf('sha256', h('00'), 'x', h('01'), 33))).toBe(bytesToHex(long.subarray(0, 33)));
  });

  it('rejects a negative or fractional length', () => {
    expect(() => prf('sha256', h('00'), 'x', h('01'), -1)).toThrow(TypeError);
    expect(() => prf('sha256', h('00'), 'x', h('01'), 1.5)).toThrow(TypeError);
  });
});

describe('RFC 5246 §8.1 master secret: milagro spec §11 vectors (client_random = 32×11, server_random = 32×22)', () => {
  const cr = new Uint8Array(32).fill(0x11);
  const sr = new Uint8Array(32).fill(0x22);
  const cases = [
    ['V5 MILAGRO_CS with time permits', '00106b03e685d4213ec4312bd9136f39c06e', '99dc1aef95eea1cf24c064fed272e315b33629857ca4351098defbdbf6607d6c263f22b2a2c75ccf580f0c7c14db32c2'],
    ['V6 MILAGRO_CS without time permits', '00102c08321171b7ccb9ddce647e5d4ffef0', '62699f004e000cfea4648fdb2d6bdd97fe77be08ffccec949f3c116b39fd6e550e23bbbfd0c0ea8a5ff610bb3ee0c920'],
    ['V9 MILAGRO_P2P', '001064f8de9ee165f538331b974fca10b3ea', '8e5cb22f687886e11b251f4bae75ec1b9c157b1e90f3f46bf1b76792a1a9be6651885c8c03c4dc10c240ac3ac7f7d519'],
  ] as const;
  for (const [name, pms, ms] of cases) {
    it(name, () => {
      expect(bytesToHex(masterSecret('sha256', h(pms), cr, sr))).toBe(ms);
    });
  }

  it('rejects randoms that are not 32 bytes', () => {
    expect(() => masterSecret('sha256', h('00'), new Uint8Array(31), sr)).toThrow(TypeError);
  });
});

describe('recorded milagro-tls sessions: key schedule (debug_output_values)', () => {
  for (const t of encryptedTranscripts()) {
    const d = t.debug_output_values;
    const suite = suiteById(parseInt(t.ciphersuite_id, 16));
    it(`${t.name}: master secret, key block, write keys, Finished verify_data`, () => {
      expect(suite).toBeDefined();
      if (suite === undefined) return;
      const cr = h(d.client_random);
      const sr = h(d.server_random);
      const master = masterSecret(suite.prfHash, h(d.premaster_secret_client), cr, sr);
      expect(bytesToHex(master)).toBe(d.master_secret_client);
      expect(bytesToHex(master)).toBe(d.master_secret_server);

      expect(bytesToHex(prf('sha256', master, 'key expansion', concatBytes(sr, cr), 256))).toBe(d.key_block_256);
      const keys = keyBlock(suite, master, cr, sr);
      expect(bytesToHex(keys.clientWriteKey)).toBe(d.derived_keys.client_write_key);
      expect(bytesToHex(keys.serverWriteKey)).toBe(d.derived_keys.server_write_key);
      expect(bytesToHex(keys.clientWriteIv)).toBe(d.derived_keys.client_write_iv_salt);
      expect(bytesToHex(keys.serverWriteIv)).toBe(d.derived_keys.server_write_iv_salt);

      // Transcript = every plaintext handshake message in wire order; the server's Finished also
      // covers the client's Finished (RFC 5246 §7.4.9), which travels encrypted in record 6.
      const transcript = new Transcript();
      for (const r of t.records) for (const m of r.handshake_messages ?? []) transcript.add(h(m.hex));
      transcript.setHash(suite.prfHash);
      const clientVd = verifyData(suite.prfHash, master, 'client finished', transcript.current());
      expect(bytesToHex(clientVd)).toBe(d.finished_verify_data_client_log[0]);
      const clientFinished = t.records.find((r) => r.encrypted && r.content_type === 22 && r.direction === 'client_to_server');
      expect(clientFinished?.plaintext_hex).toBe(`1400000c${bytesToHex(clientVd)}`);
      transcript.add(h(clientFinished?.plaintext_hex ?? ''));
      expect(bytesToHex(verifyData(suite.prfHash, master, 'server finished', transcript.current()))).toBe(d.finished_verify_data_client_log[1]);
    });
  }
});

describe('RFC 5246 §6.3 key block layout', () => {
  it('ChaCha20 suites take 12-byte IVs, AES-256 suites 32-byte keys, nothing overlaps', () => {
    const master = new Uint8Array(48).fill(7);
    const cr = new Uint8Array(32).fill(1);
    const sr = new Uint8Array(32).fill(2);
    for (const suite of [Suites.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]) {
      const k = suite.aead.keyLength;
      const iv = suite.aead.fixedIvLength;
      const block = prf(suite.prfHash, master, 'key expansion', concatBytes(sr, cr), 2 * k + 2 * iv);
      const keys = keyBlock(suite, master, cr, sr);
      expect(bytesToHex(concatBytes(keys.clientWriteKey, keys.serverWriteKey, keys.clientWriteIv, keys.serverWriteIv))).toBe(bytesToHex(block));
      expect(keys.clientWriteIv.length).toBe(iv);
      expect(keys.serverWriteKey.length).toBe(k);
    }
  });
});

describe('RFC 7627 §4 extended master secret', () => {
  it('is PRF(premaster, "extended master secret", session_hash)[0..47] and differs from the classic master secret', () => {
    const pms = new Uint8Array(48).fill(3);
    const sessionHash = new Uint8Array(createHash('sha256').update('handshake').digest());
    const ems = extendedMasterSecret('sha256', pms, sessionHash);
    expect(ems.length).toBe(48);
    expect(bytesToHex(ems)).toBe(bytesToHex(prf('sha256', pms, 'extended master secret', sessionHash, 48)));
    expect(bytesToHex(ems)).not.toBe(bytesToHex(masterSecret('sha256', pms, sessionHash, sessionHash)));
  });
});

describe('Transcript', () => {
  it('running digests equal the one-shot hash, for SHA-256 and SHA-384, whenever setHash is called', () => {
    const msgs = [h('0100000401020304'), h('02000002aabb'), h('0e000000')];
    for (const hash of ['sha256', 'sha384'] as const) {
      const t = new Transcript();
      t.add(msgs[0] ?? new Uint8Array());
      t.setHash(hash);
      expect(bytesToHex(t.current())).toBe(createHash(hash).update(msgs[0] ?? new Uint8Array()).digest('hex'));
      t.add(msgs[1] ?? new Uint8Array());
      t.add(msgs[2] ?? new Uint8Array());
      const all = concatBytes(...msgs);
      expect(bytesToHex(t.current())).toBe(createHash(hash).update(all).digest('hex'));
      expect(bytesToHex(t.current())).toBe(bytesToHex(transcriptHash(hash, all)));
      expect(bytesToHex(t.bytes())).toBe(bytesToHex(all));
      expect(bytesToHex(t.digestWith('sha384'))).toBe(createHash('sha384').update(all).digest('hex'));
    }
  });

  it('keeps its own copy of added messages and refuses to change hash', () => {
    const t = new Transcript();
    const m = h('01020304');
    t.add(m);
    m.fill(0);
    expect(bytesToHex(t.bytes())).toBe('01020304');
    expect(() => t.current()).toThrow(TypeError);
    t.setHash('sha256');
    expect(() => t.setHash('sha384')).toThrow(TypeError);
  });
});
