/**
 * A minimal X.509 v3 certificate writer for tests (DER by hand, ECDSA P-256 signatures by
 * node:crypto): enough to build hostile chains on the fly — e.g. hundreds of look-alike
 * intermediates — without committing large fixtures.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One DER element: tag, length, contents. */
export function der(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...len(body.length)]), body]);
}

const seq = (...p: Uint8Array[]): Uint8Array => der(0x30, ...p);

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const n of rest) {
    const bytes = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) bytes.unshift(0x80 | (v & 0x7f));
    out.push(...bytes);
  }
  return der(0x06, Uint8Array.from(out));
}

function integer(n: bigint): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if ((b[0] as number) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return der(0x02, b);
}

/** Name with a single CN (UTF8String). */
export function name(cn: string): Uint8Array {
  return seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));
}

const utcTime = (d: Date): Uint8Array => der(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'ascii'));

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface ForgeOptions {
  readonly subject: string;
  readonly issuer: string;
  /** Key certified by this certificate. */
  readonly publicKey: KeyObject;
  /** Key that signs it (the issuer's). */
  readonly signer: KeyObject;
  readonly serial: bigint;
  readonly ca: boolean;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Flip a byte of the signature value (a broken but well-formed signature). */
  readonly breakSignature?: boolean;
  readonly dnsNames?: readonly string[];
}

/** A DER certificate. */
export function forgeCertificate(o: ForgeOptions): Uint8Array {
  const spki = o.publicKey.export({ type: 'spki', format: 'der' });
  const exts: Uint8Array[] = [
    // basicConstraints, critical
    seq(oid('2.5.29.19'), der(0x01, Uint8Array.of(0xff)), der(0x04, seq(...(o.ca ? [der(0x01, Uint8Array.of(0xff))] : [])))),
  ];
  if (o.dnsNames !== undefined && o.dnsNames.length > 0) {
    exts.push(seq(oid('2.5.29.17'), der(0x04, seq(...o.dnsNames.map((d) => der(0x82, Buffer.from(d, 'ascii')))))));
  }
  const tbs = seq(
    der(0xa0, integer(2n)),
    integer(o.serial),
    ECDSA_SHA256,
    name(o.issuer),
    seq(utcTime(o.notBefore ?? new Date('2025-01-01T00:00:00Z')), utcTime(o.notAfter ?? new Date('2045-01-01T00:00:00Z'))),
    name(o.subject),
    spki,
    der(0xa3, seq(...exts)),
  );
  const sig = Uint8Array.from(sign('sha256', tbs, o.signer));
  if (o.breakSignature === true) sig[sig.length - 2] = (sig[sig.length - 2] as number) ^ 0x01;
  return seq(tbs, ECDSA_SHA256, der(0x03, Uint8Array.of(0), sig));
}

export function ecKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function pemOf(derBytes: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(derBytes).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

export function keyPem(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The issue-11 §4 monster: a leaf and `n` look-alike intermediates with distinct serials and
 * keys and broken signatures, spread over `levels` names ("Look-alike CA 0" issues the leaf,
 * level i is issued by level i+1, the last level by the trusted anchor's name). Every
 * intermediate of a level is a candidate issuer for everything one level down, so a path builder
 * that tries every candidate spends one signature check per intermediate (or more) and finds none.
 */
export function monsterChain(
  n: number,
  opts: { readonly trustedName: string; readonly levels?: number },
): { leaf: Uint8Array; intermediates: Uint8Array[]; leafKey: KeyObject } {
  const levels = opts.levels ?? 5;
  const level = (i: number): string => `Look-alike CA ${i}`;
  const leafKeys = ecKey();
  const intermediates: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = ecKey();
    const l = i % levels;
    intermediates.push(
      forgeCertificate({
        subject: level(l),
        issuer: l + 1 === levels ? opts.trustedName : level(l + 1),
        publicKey: k.publicKey,
        signer: k.privateKey,
        serial: 0x1000n + BigInt(i),
        ca: true,
        breakSignature: true,
      }),
    );
  }
  const leaf = forgeCertificate({ subject: 'client', issuer: level(0), publicKey: leafKeys.publicKey, signer: leafKeys.privateKey, serial: 7n, ca: false, dnsNames: ['localhost'] });
  return { leaf, intermediates, leafKey: leafKeys.privateKey };
}
