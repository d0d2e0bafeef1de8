/**
 * Seeded fuzz of the deframer and decryption path: random bytes, mutated valid streams and random
 * push splits may only ever produce records or TlsError subclasses (never TypeError/RangeError).
 */
import { describe, expect, it } from 'vitest';
import { TlsError } from '../../src/alerts.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { aeadProtection } from '../../src/record/protection.ts';
import { RecordLayer } from '../../src/record/record-layer.ts';
import { Aeads } from '../../src/suites.ts';
import { seededRandom } from './helpers.ts';

type Rng = ReturnType<typeof seededRandom>;

function protection(): ReturnType<typeof aeadProtection> {
  return aeadProtection(Aeads.aes128gcm, new Uint8Array(16).fill(5), new Uint8Array(4).fill(6), nobleAeadProvider);
}

/** Push `wire` in random pieces and drain; returns the number of records or the TlsError. */
function drive(wire: Uint8Array, rnd: Rng, encrypted: boolean): number | TlsError {
  const rl = new RecordLayer();
  if (encrypted) rl.setPendingRead(protection());
  let n = 0;
  try {
    for (let at = 0; at < wire.length; ) {
      const k = 1 + rnd.int(64);
      rl.push(wire.subarray(at, at + k));
      at += k;
      for (let r = rl.read(); r !== undefined; r = rl.read()) {
        n++;
        if (r.type === ContentType.change_cipher_spec && !rl.readEncrypted && encrypted) rl.activateRead();
      }
    }
  } catch (e) {
    if (e instanceof TlsError) return e;
    throw e;
  }
  return n;
}

function validStream(rnd: Rng): Uint8Array {
  const w = new RecordLayer();
  w.setPendingWrite(protection());
  const parts = [w.write(ContentType.handshake, rnd.bytes(1 + rnd.int(300))), w.write(ContentType.change_cipher_spec, Uint8Array.of(1))];
  w.activateWrite();
  for (let i = 0; i < 3; i++) parts.push(w.write(ContentType.application_data, rnd.bytes(rnd.int(500))));
  parts.push(w.write(ContentType.alert, Uint8Array.of(1, 0)));
  return concatBytes(...parts);
}

describe('deframer fuzz (seeded)', () => {
  it('random byte strings only ever yield records or TlsError', () => {
    const rnd = seededRandom(0xdeadbeef);
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      // Bias the first byte towards valid types and the second towards 3, so headers get past the first check.
      const wire = rnd.bytes(rnd.int(80));
      if (wire.length > 2 && rnd.int(2) === 0) {
        wire[0] = 20 + rnd.int(4);
        wire[1] = 3;
      }
      const res = drive(wire, rnd, rnd.int(2) === 0);
      if (res instanceof TlsError) errors++;
    }
    expect(errors).toBeGreaterThan(0);
  });

  it('valid streams decode fully under random splits; mutated ones fail only with TlsError', () => {
    const rnd = seededRandom(20260128);
    for (let i = 0; i < 200; i++) {
      const wire = validStream(rnd);
      expect(drive(wire, rnd, true)).toBe(6);
      const bad = wire.slice();
      const flips = 1 + rnd.int(4);
      for (let f = 0; f < flips; f++) {
        const at = rnd.int(bad.length);
        bad[at] = (bad[at] as number) ^ (1 + rnd.int(255));
      }
      const res = drive(bad, rnd, true);
      expect(typeof res === 'number' || res instanceof TlsError).toBe(true);
      // Truncation at a random point never throws: it just leaves a partial record buffered.
      expect(typeof drive(wire.subarray(0, rnd.int(wire.length)), rnd, true)).toBe('number');
    }
  });
});
