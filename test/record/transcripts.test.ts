/**
 * Replays the recorded milagro-tls sessions through our record layer: every encrypted record
 * decrypts to the recorded plaintext, and re-encrypting the plaintexts reproduces the recorded
 * wire bytes exactly (the explicit nonce is the sequence number, as in mbedTLS).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/codec/bytes.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { nodeAeadProvider } from '../../src/crypto/aead/node.ts';
import type { AeadProvider } from '../../src/crypto/aead/provider.ts';
import { keyBlock, masterSecret } from '../../src/crypto/prf.ts';
import { ContentType, isContentType } from '../../src/record/content-type.ts';
import { aeadProtection } from '../../src/record/protection.ts';
import { RecordLayer, type PlainRecord } from '../../src/record/record-layer.ts';
import { suiteById, type CipherSuite } from '../../src/suites.ts';
import { encryptedTranscripts, type RecordedRecord } from './helpers.ts';

const h = hexToBytes;
const providers: readonly AeadProvider[] = [nobleAeadProvider, nodeAeadProvider];

function keysFor(t: ReturnType<typeof encryptedTranscripts>[number]): { suite: CipherSuite; keys: ReturnType<typeof keyBlock> } {
  const suite = suiteById(parseInt(t.ciphersuite_id, 16));
  if (suite === undefined) throw new Error(`suite ${t.ciphersuite_id} missing from the table`);
  const d = t.debug_output_values;
  const master = masterSecret(suite.prfHash, h(d.premaster_secret_client), h(d.client_random), h(d.server_random));
  return { suite, keys: keyBlock(suite, master, h(d.client_random), h(d.server_random)) };
}

function contentType(r: RecordedRecord): ContentType {
  if (!isContentType(r.content_type)) throw new Error(`bad recorded type ${r.content_type}`);
  return r.content_type;
}

/** The plaintext a record carries: recorded for encrypted records, the fragment itself otherwise. */
function plaintextOf(r: RecordedRecord): string {
  return r.encrypted ? (r.plaintext_hex ?? '') : r.record_hex.slice(10);
}

describe.each(providers.map((p) => [p.name, p] as const))('recorded milagro-tls sessions, %s provider', (_n, provider) => {
  for (const t of encryptedTranscripts()) {
    const { suite, keys } = keysFor(t);
    for (const dir of ['client_to_server', 'server_to_client'] as const) {
      const fromClient = dir === 'client_to_server';
      const key = fromClient ? keys.clientWriteKey : keys.serverWriteKey;
      const iv = fromClient ? keys.clientWriteIv : keys.serverWriteIv;
      const records = t.records.filter((r) => r.direction === dir);

      it(`${t.name} ${dir}: each encrypted record unprotects at its sequence number and re-protects byte for byte`, () => {
        const enc = records.filter((r) => r.encrypted);
        expect(enc.length).toBeGreaterThan(0);
        for (const r of enc) {
          const p = aeadProtection(suite.aead, key, iv, provider);
          const wire = h(r.record_hex);
          const version = parseInt(r.record_version, 16);
          const seq = BigInt(r.sequence_number ?? -1);
          const plain = p.unprotect(contentType(r), version, wire.subarray(5), seq);
          expect(bytesToHex(plain)).toBe(r.plaintext_hex);
          expect(bytesToHex(p.protect(contentType(r), version, plain, seq))).toBe(r.record_hex.slice(10));
        }
      });

      it(`${t.name} ${dir}: the whole stream, pushed in odd-sized pieces, reads back record by record`, () => {
        const rl = new RecordLayer();
        const stream = concatBytes(...records.map((r) => h(r.record_hex)));
        for (let at = 0; at < stream.length; at += 37) rl.push(stream.subarray(at, Math.min(stream.length, at + 37)));
        rl.setPendingRead(aeadProtection(suite.aead, key, iv, provider));
        const got: PlainRecord[] = [];
        for (;;) {
          const rec = rl.read();
          if (rec === undefined) break;
          got.push(rec);
          if (rec.type === ContentType.change_cipher_spec) rl.activateRead();
        }
        expect(rl.buffered).toBe(0);
        expect(rl.readEncrypted).toBe(true);
        expect(got.map((g) => [g.type, g.version.toString(16).padStart(4, '0'), bytesToHex(g.data)])).toEqual(
          records.map((r) => [r.content_type, r.record_version, plaintextOf(r)]),
        );
      });

      it(`${t.name} ${dir}: writing the recorded plaintexts reproduces the recorded wire bytes`, () => {
        const rl = new RecordLayer();
        rl.setPendingWrite(aeadProtection(suite.aead, key, iv, provider));
        const out: Uint8Array[] = [];
        for (const r of records) {
          rl.writeVersion = parseInt(r.record_version, 16); // 0301 on the ClientHello, as mbedTLS sends it
          out.push(rl.write(contentType(r), h(plaintextOf(r))));
          if (r.content_type === ContentType.change_cipher_spec) rl.activateWrite();
        }
        expect(rl.writeEncrypted).toBe(true);
        expect(bytesToHex(concatBytes(...out))).toBe(records.map((r) => r.record_hex).join(''));
      });
    }
  }
});
