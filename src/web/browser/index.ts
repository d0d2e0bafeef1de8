/**
 * Entry of the browser bundle (`/mpin/static/mpin-web.js`, ESM): the client, the store, the PIN pad
 * and the login controller. Importing it defines `<mpin-pad>` and `<mpin-login>`.
 */
import { defineElements } from './login.ts';

export { MpinWebClient, MpinWebError, parsePin, type AuthMode, type AuthOutcome, type MpinWebClientOptions } from './client.ts';
export { IndexedDbStore, MemoryStore, type IdentityStore, type StoredIdentity } from './store.ts';
export { MpinPad, type PadState, type PadStateKind, type PadEvents } from './pin-pad.ts';
export { LoginController, MpinLogin, defineElements, type LoginControllerOptions } from './login.ts';
export { formatAccessNumber, parseAccessNumber } from '../protocol.ts';

if (typeof customElements !== 'undefined') defineElements();
