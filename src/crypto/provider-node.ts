/**
 * The node:crypto provider (native OpenSSL): AES-GCM/ChaCha20-Poly1305 records, X25519/P-256/P-384
 * ECDHE and ECDSA/RSA signatures. Each instance owns its KeyObject caches (signature-node.ts), so
 * create one per long-lived configuration (a server, a secure context) and reuse it.
 */
import { nodeAeadProvider } from './aead/node.ts';
import type { CryptoProvider } from './provider.ts';
import { nodeEcdh } from '../kex/ecdh-node.ts';
import { createNodeSignatures } from '../x509/signature-node.ts';

export function createNodeCryptoProvider(): CryptoProvider {
  return Object.freeze({
    name: 'node',
    aead: nodeAeadProvider,
    ecdh: nodeEcdh,
    signatures: createNodeSignatures(),
  });
}
