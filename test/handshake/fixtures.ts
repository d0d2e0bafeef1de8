/** Test fixtures: certificates, keys, deterministic randomness, a fixed clock. */
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomSource } from '../../src/providers.ts';
import { loadCertificates } from '../../src/x509/certificate.ts';
import { loadPrivateKey } from '../../src/x509/keys.ts';
import type { Certificate, PrivateKey } from '../../src/x509/types.ts';

const certDir = new URL('../fixtures/certs/', import.meta.url);

export function fixtureCerts(name: string): Certificate[] {
  return loadCertificates(readFileSync(new URL(name, certDir), 'utf8'));
}

export function fixtureKey(name: string): PrivateKey {
  return loadPrivateKey(readFileSync(new URL(name, certDir), 'utf8'));
}

/** A deterministic RandomSource: SHA-256(seed ‖ counter) blocks. */
export function seededRandom(seed: string): RandomSource {
  const s = new TextEncoder().encode(seed);
  let counter = 0;
  let pool = new Uint8Array(0);
  return (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      if (pool.length === 0) {
        const block = new Uint8Array(s.length + 4);
        block.set(s);
        new DataView(block.buffer).setUint32(s.length, counter++);
        pool = sha256(block);
      }
      const k = Math.min(pool.length, n - at);
      out.set(pool.subarray(0, k), at);
      pool = pool.subarray(k);
      at += k;
    }
    return out;
  };
}

/** A fixed clock inside the fixtures' validity (2025..2045). */
export const fixedClock = (): number => Date.UTC(2026, 10, 28, 4, 0, 0);

