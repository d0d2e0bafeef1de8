/**
 * `milagro-ts/ldap`: the LDAP proxy that accepts one-time M-Pin login tokens as bind passwords
 * (issue 15), its token verifiers, and the bounded LDAP message layer it is built on.
 *
 *   import { LdapProxy, InProcessTokenVerifier } from 'milagro-ts/ldap';
 *   const proxy = new LdapProxy({ target, verifier: new InProcessTokenVerifier(relyingParty), ... });
 *   await proxy.listen(1389, '127.0.0.1');
 */
export { LdapProxy, type LdapProxyOptions, type ProxyMode, type ProxyStats } from './proxy.ts';
export {
  HttpTokenVerifier,
  InProcessTokenVerifier,
  LOGIN_TOKEN_PREFIX,
  looksLikeToken,
  type HttpTokenVerifierOptions,
  type InProcessTokenSource,
  type TokenVerification,
  type TokenVerifier,
  type TokenVerifyRequest,
} from './verifier.ts';
export { parseLdapUrl, type LdapTarget } from './backend.ts';
export { BerError, type BerErrorCode } from './ber.ts';
export { LdapFramer, parseEnvelope, ResultCode, DEFAULT_MAX_MESSAGE_SIZE, type LdapEnvelope } from './messages.ts';
