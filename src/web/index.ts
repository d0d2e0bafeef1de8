/**
 * `milagro-ts/web`: the M-Pin relying party (server side of the web login) and its node:http
 * adapter. The Fastify adapter is `milagro-ts/web/fastify` (its types need Fastify installed);
 * the browser client is `milagro-ts/web/browser` (a prebuilt bundle).
 *
 *   const rp = await RelyingParty.create({ ...options, assets: await loadWebAssets() });
 *   http.createServer(async (req, res) => { if (!(await handleNode(rp, req, res))) res.end('my site'); });
 */
export { RelyingParty, type RelyingPartyOptions, type RpRequest, type RpResponse, type WebAssets } from './server/relying-party.ts';
export { handleNode, toRpRequest, writeRpResponse, readBody } from './server/node-http.ts';
export { loadWebAssets } from './assets.ts';
export { DtaRelay, RelayError, type DtaRelayOptions, type RelayFailure } from './server/dta-relay.ts';
export { RateLimiter, type RateLimit } from './server/limits.ts';
export {
  DEFAULT_PREFIX,
  ENDPOINTS,
  CSRF_HEADER,
  LOGIN_TOKEN_PREFIX,
  type LoginTokenVerdict,
  type LoginTokenError,
  MAX_IDENTITY_CHARS,
  ACCESS_NUMBER_DIGITS,
  isValidIdentity,
  formatAccessNumber,
  parseAccessNumber,
  type Purpose,
  type ErrorCode,
  type ErrorBody,
  type SessionInfo,
} from './protocol.ts';
