/**
 * TLS 1.2 key schedule: the PRF (RFC 5246 §5), master secret (§8.1), extended master secret
 * (RFC 7627 §4), key block for AEAD suites (§6.3, RFC 5288 §3, RFC 7905 §2), Finished
 * verify_data (§7.4.9) and the handshake transcript hash.
 *
 * HMAC and the hashes come from @noble/hashes. Inputs here are local secrets, not peer bytes, so
 * misuse (wrong lengths) is a programming error and throws TypeError.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import type { CipherSuite, PrfHash } from '../suites.ts';

type HashFn = typeof sha256 | typeof sha384;

function hashFn(hash: PrfHash): HashFn {
  switch (hash) {
    case 'sha256':
      return sha256;
    case 'sha384':
      return sha384;
    default: {
      const never: never = hash;
      throw new TypeError(`unknown PRF hash ${String(never)}`);
    }
  }
}

const encoder = new TextEncoder();

/**
 * PRF(secret, label, seed) = P_<hash>(secret, label + seed), RFC 5246 §5:
 *   A(0) = label + seed, A(i) = HMAC(secret, A(i-1)),
 *   P_hash = HMAC(secret, A(1) + label + seed) + HMAC(secret, A(2) + label + seed) + ...
 * The keyed HMAC state is computed once and cloned per block.
 */
export function prf(hash: PrfHash, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new TypeError(`prf: invalid output length ${length}`);
  const h = hashFn(hash);
  const labelBytes = encoder.encode(label);
  const labelSeed = new Uint8Array(labelBytes.length + seed.length);
  labelSeed.set(labelBytes, 0);
  labelSeed.set(seed, labelBytes.length);

  const keyed = hmac.create(h, secret);
  const mac = (...parts: Uint8Array[]): Uint8Array => {
    const m = keyed.clone();
    for (const p of parts) m.update(p);
    return m.digest();
  };

  const out = new Uint8Array(length);
  let a = mac(labelSeed);
  let at = 0;
  while (at < length) {
    const block = mac(a, labelSeed);
    out.set(block.subarray(0, Math.min(block.length, length - at)), at);
    at += block.length;
    if (at < length) a = mac(a);
  }
  keyed.destroy();
  return out;
}

function need(what: string, b: Uint8Array, len: number): void {
  if (b.length !== len) throw new TypeError(`${what} must be ${len} bytes, got ${b.length}`);
}

/** master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47] (RFC 5246 §8.1). */
export function masterSecret(hash: PrfHash, premaster: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): Uint8Array {
  need('client random', clientRandom, 32);
  need('server random', serverRandom, 32);
  const seed = new Uint8Array(64);
  seed.set(clientRandom, 0);
  seed.set(serverRandom, 32);
  return prf(hash, premaster, 'master secret', seed, 48);
}

/** RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47]. */
export function extendedMasterSecret(hash: PrfHash, premaster: Uint8Array, sessionHash: Uint8Array): Uint8Array {
  return prf(hash, premaster, 'extended master secret', sessionHash, 48);
}

export interface TrafficKeys {
  readonly clientWriteKey: Uint8Array;
  readonly serverWriteKey: Uint8Array;
  readonly clientWriteIv: Uint8Array;
  readonly serverWriteIv: Uint8Array;
}

/**
 * key_block = PRF(master_secret, "key expansion", server_random + client_random) (RFC 5246 §6.3).
 * AEAD suites have no MAC keys (mac_key_length = 0), so the block is
 * client_write_key ‖ server_write_key ‖ client_write_IV ‖ server_write_IV, with the IV being the
 * 4-byte GCM salt (RFC 5288 §3) or the 12-byte ChaCha20 IV (RFC 7905 §2).
 */
export function keyBlock(suite: CipherSuite, master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): TrafficKeys {
  need('master secret', master, 48);
  need('client random', clientRandom, 32);
  need('server random', serverRandom, 32);
  const { keyLength: k, fixedIvLength: iv } = suite.aead;
  const seed = new Uint8Array(64);
  seed.set(serverRandom, 0);
  seed.set(clientRandom, 32);
  const block = prf(suite.prfHash, master, 'key expansion', seed, 2 * k + 2 * iv);
  // Independent copies so that wiping one key does not touch another (and no shared buffer leaks).
  return {
    clientWriteKey: block.slice(0, k),
    serverWriteKey: block.slice(k, 2 * k),
    clientWriteIv: block.slice(2 * k, 2 * k + iv),
    serverWriteIv: block.slice(2 * k + iv, 2 * k + 2 * iv),
  };
}

/** verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11] (RFC 5246 §7.4.9). */
export function verifyData(
  hash: PrfHash,
  master: Uint8Array,
  label: 'client finished' | 'server finished',
  handshakeHash: Uint8Array,
): Uint8Array {
  return prf(hash, master, label, handshakeHash, 12);
}

/** Hash of the concatenated handshake messages (RFC 5246 §7.4.9: the PRF hash of the suite). */
export function transcriptHash(hash: PrfHash, messages: Uint8Array): Uint8Array {
  return hashFn(hash)(messages);
}

/**
 * Incremental handshake transcript. The PRF hash is only known at ServerHello, and a TLS 1.2
 * CertificateVerify may sign with a different hash than the PRF, so the exact received bytes
 * (never re-encoded, style.md §10) are kept, and once `setHash` is called they also feed a
 * running hash whose intermediate digests are cheap.
 */
export class Transcript {
  readonly #messages: Uint8Array[] = [];
  #length = 0;
  #running: ReturnType<HashFn['create']> | undefined;
  #hash: PrfHash | undefined;

  /** Append one complete handshake message (header included), exactly as on the wire. */
  add(message: Uint8Array): void {
    const copy = message.slice();
    this.#messages.push(copy);
    this.#length += copy.length;
    this.#running?.update(copy);
  }

  /** Fix the PRF hash (at ServerHello); may be called once. */
  setHash(hash: PrfHash): void {
    if (this.#hash !== undefined) {
      if (this.#hash !== hash) throw new TypeError(`transcript hash already set to ${this.#hash}`);
      return;
    }
    this.#hash = hash;
    const running = hashFn(hash).create();
    for (const m of this.#messages) running.update(m);
    this.#running = running;
  }

  get hash(): PrfHash | undefined {
    return this.#hash;
  }

  /** Digest of everything added so far with the PRF hash (the running state is not consumed). */
  current(): Uint8Array {
    if (this.#running === undefined) throw new TypeError('transcript hash not chosen yet (call setHash at ServerHello)');
    return this.#running.clone().digest();
  }

  /** Digest with an arbitrary hash (e.g. for CertificateVerify signatures). */
  digestWith(hash: PrfHash): Uint8Array {
    return hashFn(hash)(this.bytes());
  }

  /** All handshake messages so far, concatenated. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const m of this.#messages) {
      out.set(m, at);
      at += m.length;
    }
    return out;
  }
}
