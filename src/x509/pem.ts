/** PEM (RFC 7468) encoding and decoding. */
import { CertificateError } from './errors.ts';

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----([\s\S]*?)-----END ([A-Z0-9 ]{1,64})-----/g;

/** All PEM blocks in `text`, in order. Text outside the blocks (OpenSSL's "subject=" lines) is ignored. */
export function decodePem(text: string): { label: string; der: Uint8Array }[] {
  const out: { label: string; der: Uint8Array }[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [, label = '', body = '', endLabel] = m;
    if (label !== endLabel) throw new CertificateError(`PEM: BEGIN ${label} closed by END ${endLabel ?? ''}`);
    // RFC 7468 §2: headers (RFC 1421 "Proc-Type:") mean an encrypted legacy key we do not read.
    if (body.includes(':')) throw new CertificateError(`PEM ${label}: encrypted or headed PEM is not supported`);
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new CertificateError(`PEM ${label}: invalid base64`);
    out.push({ label, der: base64Decode(b64) });
  }
  return out;
}

export function encodePem(label: string, der: Uint8Array): string {
  let bin = '';
  for (const x of der) bin += String.fromCharCode(x);
  const b64 = btoa(bin);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Input given as text or bytes: bytes that look like PEM are decoded as text. */
export function asPemText(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  const head = new TextDecoder('latin1').decode(input.subarray(0, Math.min(input.length, 4096)));
  return head.includes('-----BEGIN ') ? new TextDecoder('latin1').decode(input) : undefined;
}

function base64Decode(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
