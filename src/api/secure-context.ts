/**
 * `createSecureContext(options)`, like node:tls: what several connections share — trust anchors
 * parsed once, the crypto provider instance (its KeyObject caches) and a `SignatureCache`, so a
 * client reconnecting to the same server verifies the server's certificate chain once, not per
 * handshake (RFC 5280 §6 gives the same answer for the same bytes; only successes are cached).
 * Pass it as `connect({ secureContext })`.
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import { SignatureCache } from '../x509/chain.ts';
import { loadCertificates } from '../x509/index.ts';
import type { Certificate } from '../x509/types.ts';
import { TlsOptionError, resolveCryptoProvider } from './config.ts';
import type { CryptoProviderOption, PemInputs } from './options.ts';

export interface SecureContextOptions {
  /** Trust anchors (PEM or DER, one or several). */
  readonly ca?: PemInputs;
  readonly cryptoProvider?: CryptoProviderOption;
  /** Certificate signatures remembered (default 256). */
  readonly signatureCacheSize?: number;
}

export class SecureContext {
  /** Parsed trust anchors; undefined when the context has none (the connection's `ca` then applies). */
  readonly ca: readonly Certificate[] | undefined;
  readonly provider: CryptoProvider;
  readonly certificateCache: SignatureCache;

  constructor(options: SecureContextOptions = {}) {
    if (options.ca !== undefined) {
      const list = typeof options.ca === 'string' || options.ca instanceof Uint8Array ? [options.ca] : [...options.ca];
      try {
        this.ca = Object.freeze(loadCertificates(list));
      } catch (e) {
        throw new TlsOptionError('ERR_TLS_BAD_CERTIFICATE_OPTION', `ca: cannot load certificate(s): ${(e as Error).message}`);
      }
    } else {
      this.ca = undefined;
    }
    this.provider = resolveCryptoProvider(options.cryptoProvider);
    const size = options.signatureCacheSize ?? 256;
    if (!Number.isInteger(size) || size < 1) throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'signatureCacheSize must be a positive integer');
    this.certificateCache = new SignatureCache(size);
  }
}

export function createSecureContext(options: SecureContextOptions = {}): SecureContext {
  return new SecureContext(options);
}
