/**
 * How each key exchange is done: a small immutable map KexName → provider. The engine config
 * holds one; ECDHE is built in, the Milagro providers (which carry their credentials) are added
 * by their owners with `withProvider`.
 */
import type { CipherSuite, KexName } from '../suites.ts';
import type { KeyExchangeProvider } from './key-exchange.ts';
import { createEcdheEcdsa, createEcdheRsa } from './ecdhe.ts';
import type { EcdhBackend } from './ecdh.ts';
import type { SignatureBackend } from '../x509/signature.ts';

export class KexRegistry {
  readonly #providers: ReadonlyMap<KexName, KeyExchangeProvider>;

  private constructor(providers: ReadonlyMap<KexName, KeyExchangeProvider>) {
    this.#providers = providers;
  }

  static of(...providers: readonly KeyExchangeProvider[]): KexRegistry {
    return new KexRegistry(new Map(providers.map((p) => [p.name, p])));
  }

  /** A new registry with `provider` added (replacing one of the same name). */
  withProvider(provider: KeyExchangeProvider): KexRegistry {
    const next = new Map(this.#providers);
    next.set(provider.name, provider);
    return new KexRegistry(next);
  }

  get(name: KexName): KeyExchangeProvider | undefined {
    return this.#providers.get(name);
  }

  /** Whether a suite can be offered/selected: its key exchange is registered. */
  supports(suite: CipherSuite): boolean {
    return this.#providers.has(suite.kex);
  }

  get names(): readonly KexName[] {
    return [...this.#providers.keys()];
  }
}

/**
 * The built-in key exchanges: ECDHE_ECDSA and ECDHE_RSA (RFC 8422). `ecdh` picks the ECDH arithmetic:
 * `nobleEcdh` (default) or `nodeEcdh` from ecdh-node.ts; `signatures` the ServerKeyExchange
 * signature arithmetic: `nobleSignatures` (default) or x509/signature-node.ts.
 */
export function defaultKexRegistry(opts: { readonly ecdh?: EcdhBackend; readonly signatures?: SignatureBackend } = {}): KexRegistry {
  return KexRegistry.of(createEcdheEcdsa(opts), createEcdheRsa(opts));
}
