/**
 * Handshake flows as data (style.md §6, after s2n's state tables). Each key exchange declares a
 * `KexFlow`; this module turns it into the set of handshake messages each state accepts. The
 * states consult `clientExpects` / `serverExpects` through the engine's dispatcher, so a message
 * not listed here is refused with unexpected_message before any state code runs.
 *
 * RFC 5246 §7.3, Figure 1 (full handshake), Figure 2 (abbreviated), RFC 5077 §3.1 (tickets):
 *   C: ClientHello
 *   S: ServerHello [Certificate] [ServerKeyExchange] [CertificateRequest] ServerHelloDone
 *   C: [Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished
 *   S: [NewSessionTicket] ChangeCipherSpec Finished
 * Abbreviated: C: ClientHello  S: ServerHello [NewSessionTicket] ChangeCipherSpec Finished
 *              C: ChangeCipherSpec Finished
 */
import type { KexFlow } from '../kex/key-exchange.ts';
import { HandshakeType } from './messages/types.ts';

export const clientStateNames = [
  'ExpectServerHello',
  'ExpectCertificate',
  'ExpectServerKeyExchange',
  'ExpectCertificateRequestOrServerHelloDone',
  'ExpectServerHelloDone',
  'ExpectNewSessionTicket',
  'ExpectChangeCipherSpec',
  'ExpectFinished',
  'Traffic',
] as const;
export type ClientStateName = (typeof clientStateNames)[number];

export const serverStateNames = [
  'ExpectClientHello',
  'ExpectCertificate',
  'ExpectClientKeyExchange',
  'ExpectCertificateVerify',
  'ExpectChangeCipherSpec',
  'ExpectFinished',
  'Traffic',
] as const;
export type ServerStateName = (typeof serverStateNames)[number];

const none: readonly number[] = Object.freeze([]);

/** Handshake messages a client state accepts (everything else: unexpected_message). */
export function clientExpects(state: ClientStateName, flow: KexFlow | undefined): readonly number[] {
  switch (state) {
    case 'ExpectServerHello':
      return [HandshakeType.server_hello];
    case 'ExpectCertificate':
      return flow?.serverCertificate === true ? [HandshakeType.certificate] : none;
    case 'ExpectServerKeyExchange':
      return flow?.serverKeyExchange === true ? [HandshakeType.server_key_exchange] : none;
    case 'ExpectCertificateRequestOrServerHelloDone':
      return flow?.certificateRequestAllowed === true
        ? [HandshakeType.certificate_request, HandshakeType.server_hello_done]
        : [HandshakeType.server_hello_done];
    case 'ExpectServerHelloDone':
      return [HandshakeType.server_hello_done];
    case 'ExpectNewSessionTicket':
      // RFC 5077 §3.3: announced by the session_ticket extension in ServerHello.
      return [HandshakeType.new_session_ticket];
    case 'ExpectChangeCipherSpec':
      return none;
    case 'ExpectFinished':
      return [HandshakeType.finished];
    case 'Traffic':
      // RFC 5246 §7.4.1.1: HelloRequest asks for renegotiation, which we refuse (no_renegotiation).
      return [HandshakeType.hello_request];
    default:
      return exhaustive(state);
  }
}

export function serverExpects(state: ServerStateName, _flow: KexFlow | undefined): readonly number[] {
  switch (state) {
    case 'ExpectClientHello':
      return [HandshakeType.client_hello];
    case 'ExpectCertificate':
      // RFC 5246 §7.4.6: after our CertificateRequest (possibly an empty list).
      return [HandshakeType.certificate];
    case 'ExpectClientKeyExchange':
      return [HandshakeType.client_key_exchange];
    case 'ExpectCertificateVerify':
      // RFC 5246 §7.4.8: after a non-empty client Certificate.
      return [HandshakeType.certificate_verify];
    case 'ExpectChangeCipherSpec':
      return none;
    case 'ExpectFinished':
      return [HandshakeType.finished];
    case 'Traffic':
      // A ClientHello after the handshake is a renegotiation attempt: refused (no_renegotiation).
      return [HandshakeType.client_hello];
    default:
      return exhaustive(state);
  }
}

/** States that accept ChangeCipherSpec: only the one named after it (style.md §5). */
export function acceptsChangeCipherSpec(state: ClientStateName | ServerStateName): boolean {
  return state === 'ExpectChangeCipherSpec';
}

/** The client state after ServerHello, by flow. */
export function clientStateAfterServerHello(flow: KexFlow): ClientStateName {
  if (flow.serverCertificate) return 'ExpectCertificate';
  if (flow.serverKeyExchange) return 'ExpectServerKeyExchange';
  return 'ExpectCertificateRequestOrServerHelloDone';
}

/** The client state after the server Certificate, by flow. */
export function clientStateAfterCertificate(flow: KexFlow): ClientStateName {
  return flow.serverKeyExchange ? 'ExpectServerKeyExchange' : 'ExpectCertificateRequestOrServerHelloDone';
}

/** The messages the server sends in its first flight, in order. */
export function serverFirstFlight(flow: KexFlow): readonly number[] {
  const out: number[] = [HandshakeType.server_hello];
  if (flow.serverCertificate) out.push(HandshakeType.certificate);
  if (flow.serverKeyExchange) out.push(HandshakeType.server_key_exchange);
  out.push(HandshakeType.server_hello_done);
  return out;
}

function exhaustive(x: never): never {
  throw new TypeError(`unhandled state ${String(x)}`);
}
