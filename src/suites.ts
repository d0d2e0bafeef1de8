/**
 * The cipher-suite table. Suites are frozen data: id, IANA-style name, OpenSSL-style name,
 * key exchange, AEAD and PRF hash. Configuration lists suites by reference; lookups by id
 * return undefined for ids we do not implement.
 *
 * 0xC0B1 and 0xC0B2 are the numbers milagro-tls chose; they have since been assigned by IANA to
 * other suites (RFC 8492), so `milagroSuiteIds` lets an application move them while the
 * defaults stay interoperable with the original.
 */

export type KexName = 'ECDHE_ECDSA' | 'ECDHE_RSA' | 'MILAGRO_CS' | 'MILAGRO_P2P';
export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305';
export type PrfHash = 'sha256' | 'sha384';

export interface AeadDescriptor {
  readonly name: AeadName;
  readonly keyLength: number;
  /** Implicit IV bytes taken from the key block: 4 for GCM (RFC 5288), 12 for ChaCha20 (RFC 7905). */
  readonly fixedIvLength: number;
  /** Explicit nonce bytes carried in each record: 8 for GCM, 0 for ChaCha20. */
  readonly explicitNonceLength: number;
  readonly tagLength: number;
}

export const Aeads = {
  aes128gcm: Object.freeze({ name: 'AES-128-GCM', keyLength: 16, fixedIvLength: 4, explicitNonceLength: 8, tagLength: 16 }),
  aes256gcm: Object.freeze({ name: 'AES-256-GCM', keyLength: 32, fixedIvLength: 4, explicitNonceLength: 8, tagLength: 16 }),
  chacha20poly1305: Object.freeze({ name: 'CHACHA20-POLY1305', keyLength: 32, fixedIvLength: 12, explicitNonceLength: 0, tagLength: 16 }),
} as const satisfies Record<string, AeadDescriptor>;

export interface CipherSuite {
  readonly id: number;
  /** IANA name, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256. */
  readonly name: string;
  /** OpenSSL name, as node:tls `getCipher().name` reports it. */
  readonly opensslName: string;
  readonly kex: KexName;
  readonly aead: AeadDescriptor;
  readonly prfHash: PrfHash;
}

function suite(s: CipherSuite): CipherSuite {
  return Object.freeze(s);
}

export const Suites = {
  ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: suite({
    id: 0xc02b, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', opensslName: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    kex: 'ECDHE_ECDSA', aead: Aeads.aes128gcm, prfHash: 'sha256',
  }),
  ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: suite({
    id: 0xc02c, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', opensslName: 'ECDHE-ECDSA-AES256-GCM-SHA384',
    kex: 'ECDHE_ECDSA', aead: Aeads.aes256gcm, prfHash: 'sha384',
  }),
  ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: suite({
    id: 0xcca9, name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', opensslName: 'ECDHE-ECDSA-CHACHA20-POLY1305',
    kex: 'ECDHE_ECDSA', aead: Aeads.chacha20poly1305, prfHash: 'sha256',
  }),
  ECDHE_RSA_WITH_AES_128_GCM_SHA256: suite({
    id: 0xc02f, name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', opensslName: 'ECDHE-RSA-AES128-GCM-SHA256',
    kex: 'ECDHE_RSA', aead: Aeads.aes128gcm, prfHash: 'sha256',
  }),
  ECDHE_RSA_WITH_AES_256_GCM_SHA384: suite({
    id: 0xc030, name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', opensslName: 'ECDHE-RSA-AES256-GCM-SHA384',
    kex: 'ECDHE_RSA', aead: Aeads.aes256gcm, prfHash: 'sha384',
  }),
  ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: suite({
    id: 0xcca8, name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', opensslName: 'ECDHE-RSA-CHACHA20-POLY1305',
    kex: 'ECDHE_RSA', aead: Aeads.chacha20poly1305, prfHash: 'sha256',
  }),
  MILAGRO_CS_WITH_AES_128_GCM_SHA256: suite({
    id: 0xc0b1, name: 'TLS_MILAGRO_CS_WITH_AES_128_GCM_SHA256', opensslName: 'MILAGRO-CS-AES128-GCM-SHA256',
    kex: 'MILAGRO_CS', aead: Aeads.aes128gcm, prfHash: 'sha256',
  }),
  MILAGRO_P2P_WITH_AES_128_GCM_SHA256: suite({
    id: 0xc0b2, name: 'TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256', opensslName: 'MILAGRO-P2P-AES128-GCM-SHA256',
    kex: 'MILAGRO_P2P', aead: Aeads.aes128gcm, prfHash: 'sha256',
  }),
} as const satisfies Record<string, CipherSuite>;

export const allSuites: readonly CipherSuite[] = Object.freeze(Object.values(Suites));

/**
 * The same suite under another number: 0xC0B1/0xC0B2 collide with RFC 8492's ECCPWD suites, so a
 * deployment may move the Milagro suites (both peers must agree). Key exchange, AEAD and PRF stay.
 */
export function withSuiteId(s: CipherSuite, id: number): CipherSuite {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError('cipher suite id must be a u16');
  return id === s.id ? s : suite({ ...s, id });
}

/** Signalling suite value for secure renegotiation (RFC 5746 §3.3). */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

export function suiteById(id: number, table: readonly CipherSuite[] = allSuites): CipherSuite | undefined {
  return table.find((s) => s.id === id);
}

/** Accepts IANA or OpenSSL names, case-insensitive, with '-' or '_' separators. */
export function suiteByName(name: string, table: readonly CipherSuite[] = allSuites): CipherSuite | undefined {
  const norm = (s: string): string => s.toUpperCase().replace(/-/g, '_').replace(/^TLS_/, '');
  const n = norm(name);
  return table.find((s) => norm(s.name) === n || norm(s.opensslName) === n);
}

/**
 * Parse a node:tls-style `ciphers` string ("A:B:C") into suites, in the given order.
 * Unknown names are reported so a typo does not silently shrink the list.
 */
export function parseCipherList(list: string, table: readonly CipherSuite[] = allSuites): CipherSuite[] {
  const out: CipherSuite[] = [];
  for (const raw of list.split(/[:,\s]+/).filter((x) => x.length > 0)) {
    const s = suiteByName(raw, table);
    if (s === undefined) {
      throw new TypeError(`unknown cipher suite "${raw}"; known: ${table.map((t) => t.opensslName).join(', ')}`);
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}
