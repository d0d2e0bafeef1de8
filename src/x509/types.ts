/** Public data types of src/x509 (engine contract, "Certificates"). */

export type EcCurve = 'P-256' | 'P-384';

export type PublicKey =
  | { readonly type: 'ec'; readonly curve: EcCurve; readonly point: Uint8Array /* uncompressed 04||x||y */ }
  | { readonly type: 'rsa'; readonly n: bigint; readonly e: bigint; readonly bits: number };

export type PrivateKey =
  | { readonly type: 'ec'; readonly curve: EcCurve; readonly d: Uint8Array; readonly publicKey: PublicKey & { readonly type: 'ec' } }
  | {
      readonly type: 'rsa';
      readonly n: bigint;
      readonly e: bigint;
      readonly d: bigint;
      readonly p: bigint;
      readonly q: bigint;
      readonly dp: bigint;
      readonly dq: bigint;
      readonly qi: bigint;
      readonly bits: number;
      readonly publicKey: PublicKey & { readonly type: 'rsa' };
    };

export interface DistinguishedName {
  /** The DER Name, compared byte for byte when building chains (RFC 5280 §7.1 simplified). */
  readonly raw: Uint8Array;
  /** In encoding order; `type` is a short name ('CN', 'O', ...) or the dotted OID. */
  readonly attributes: readonly { readonly type: string; readonly value: string }[];
}

export interface Certificate {
  readonly raw: Uint8Array;
  readonly tbs: Uint8Array;
  readonly version: number; // 1, 2 or 3
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly serialNumber: string; // lower-case hex, no leading zero octets
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly publicKey: PublicKey;
  /** The DER SubjectPublicKeyInfo (for node's `pubkey`). */
  readonly spki: Uint8Array;
  /** SAN dNSName and iPAddress entries (IPs in canonical text form: '127.0.0.1', '::1'). */
  readonly subjectAltNames: { readonly dns: readonly string[]; readonly ip: readonly string[] };
  /** Every SAN entry in certificate order, for display (node's `subjectaltname`). */
  readonly altNameEntries: readonly AltNameEntry[];
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  /** Names as in RFC 5280 §4.2.1.3: 'digitalSignature', 'keyCertSign', ... */
  readonly keyUsage?: readonly string[];
  /** Dotted OIDs (RFC 5280 §4.2.1.12), e.g. '1.3.6.1.5.5.7.3.1' for serverAuth. */
  readonly extKeyUsage?: readonly string[];
  /** Critical extensions we do not understand; verifyChain rejects such certificates (RFC 5280 §4.2). */
  readonly unknownCriticalExtensions: readonly string[];
  readonly signatureAlgorithm: string; // OID
  /** DER parameters of the signature AlgorithmIdentifier (RSASSA-PSS needs them). */
  readonly signatureParameters?: Uint8Array;
  readonly signature: Uint8Array;
}

export type AltNameEntry =
  | { readonly type: 'DNS' | 'email' | 'URI'; readonly value: string }
  | { readonly type: 'IP'; readonly value: string; readonly bytes: Uint8Array }
  | { readonly type: 'other'; readonly tag: number };
