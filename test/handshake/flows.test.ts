/**
 * style.md §5–§6: for every key-exchange flow and every state, each message the state does not
 * expect is refused with unexpected_message — checked on the real engine, driven into each state
 * by delivering the peer's messages one by one (and forging encrypted records after CCS).
 */
import { describe, expect, it } from 'vitest';
import { AlertDescription, TlsError } from '../../src/alerts.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { ecdheFlow } from '../../src/kex/ecdhe.ts';
import { defaultKexRegistry } from '../../src/kex/registry.ts';
import type { KexFlow } from '../../src/kex/key-exchange.ts';
import {
  acceptsChangeCipherSpec,
  clientExpects,
  clientStateNames,
  serverExpects,
  serverFirstFlight,
  serverStateNames,
  type ClientStateName,
  type ServerStateName,
} from '../../src/handshake/flows.ts';
import { HandshakeType } from '../../src/handshake/messages/types.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { Suites } from '../../src/suites.ts';
import { defaultClient, defaultServer, fixedClock, fixtureCerts, fixtureKey, seededRandom, wire, type Wire } from './helpers.ts';
import { SessionStore } from '../../src/handshake/session/store.ts';
import { fakeMilagro, fakeMilagroFlow } from './fake-kex.ts';
import { forgeEncrypted, handshakeMsg, parseRecords, record, splitHandshake } from './wire-tools.ts';

const flows: readonly (readonly [string, KexFlow])[] = [
  ['ECDHE', ecdheFlow],
  ['Milagro-shaped', fakeMilagroFlow],
];

const allTypes = [...Object.values(HandshakeType), 3, 17, 99, 255];

describe('flow tables (flows.ts)', () => {
  for (const [name, flow] of flows) {
    it(`${name}: every expected message belongs to the flow, CCS only in ExpectChangeCipherSpec`, () => {
      const first = serverFirstFlight(flow);
      for (const s of clientStateNames) {
        for (const t of clientExpects(s, flow)) {
          const ok =
            first.includes(t) ||
            t === HandshakeType.finished ||
            t === HandshakeType.hello_request ||
            t === HandshakeType.certificate_request ||
            t === HandshakeType.new_session_ticket;
          expect(ok, `${s} expects ${t}`).toBe(true);
        }
        expect(acceptsChangeCipherSpec(s)).toBe(s === 'ExpectChangeCipherSpec');
      }
      expect(first.includes(HandshakeType.certificate)).toBe(flow.serverCertificate);
      if (!flow.certificateRequestAllowed) {
        for (const s of clientStateNames) expect(clientExpects(s, flow)).not.toContain(HandshakeType.certificate_request);
      }
      for (const s of serverStateNames) expect(acceptsChangeCipherSpec(s)).toBe(s === 'ExpectChangeCipherSpec');
    });
  }
});

/** Extras that lead into the optional states: tickets (client ExpectNewSessionTicket), client certificates (server ExpectCertificate/Verify). */
interface Extras {
  readonly tickets?: boolean;
  readonly clientCert?: boolean;
}

function configs(flowName: string, extras: Extras = {}) {
  if (flowName === 'ECDHE') {
    const certs = extras.clientCert === true ? { certificateChain: fixtureCerts('client-only.pem'), privateKey: fixtureKey('client-only.key') } : {};
    return {
      client: defaultClient(certs),
      server: defaultServer({
        ...(extras.tickets === true ? { sessionStore: new SessionStore({ random: seededRandom('store'), clock: fixedClock }) } : {}),
        ...(extras.clientCert === true ? { requestCert: true, rejectUnauthorized: true, ca: fixtureCerts('ca-ec.pem') } : {}),
      }),
    };
  }
  const kex = defaultKexRegistry().withProvider(fakeMilagro());
  const suites = [Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256];
  return { client: defaultClient({ suites, kex }), server: defaultServer({ suites, kex }) };
}

/** A wire where bytes in `hold` direction are captured instead of delivered. */
function heldWire(flowName: string, hold: 'c2s' | 's2c', extras: Extras = {}) {
  const held: Uint8Array[] = [];
  const { client, server } = configs(flowName, extras);
  const w = wire(client, server, (dir, bytes) => {
    if (dir === hold) {
      held.push(bytes);
      return undefined;
    }
    return bytes;
  });
  return { w, held };
}

function messagesOf(bytes: readonly Uint8Array[]): { type: number; raw: Uint8Array }[] {
  return parseRecords(concatBytes(...bytes))
    .filter((r) => r.type === ContentType.handshake)
    .flatMap((r) => splitHandshake(r.data));
}

interface Driven {
  readonly w: Wire;
  readonly inject: (msg: Uint8Array, isCcs?: boolean) => void;
  readonly target: Wire['client'];
}

async function driveClient(flowName: string, flow: KexFlow, state: ClientStateName): Promise<Driven | undefined> {
  // Tickets are never issued for Milagro suites (milagro.md §7.10).
  if (state === 'ExpectNewSessionTicket' && flowName !== 'ECDHE') return undefined;
  const { w, held } = heldWire(flowName, 's2c', { tickets: state === 'ExpectNewSessionTicket' });
  w.client.engine.start();
  await w.settle();
  const first = messagesOf(held.splice(0, 1));
  const deliver = async (msgs: { raw: Uint8Array }[]): Promise<void> => {
    w.client.engine.receive(record(ContentType.handshake, concatBytes(...msgs.map((m) => m.raw))));
    await w.settle();
  };
  const plain = (msg: Uint8Array, isCcs = false): void =>
    w.client.engine.receive(isCcs ? record(ContentType.change_cipher_spec, msg) : record(ContentType.handshake, msg));
  const at = (t: number): number => first.findIndex((m) => m.type === t);
  switch (state) {
    case 'ExpectServerHello':
      return { w, inject: plain, target: w.client };
    case 'ExpectCertificate':
      if (!flow.serverCertificate) return undefined;
      await deliver(first.slice(0, 1));
      return { w, inject: plain, target: w.client };
    case 'ExpectServerKeyExchange':
      await deliver(first.slice(0, at(HandshakeType.server_key_exchange)));
      return { w, inject: plain, target: w.client };
    case 'ExpectCertificateRequestOrServerHelloDone':
      await deliver(first.slice(0, at(HandshakeType.server_hello_done)));
      return { w, inject: plain, target: w.client };
    case 'ExpectServerHelloDone': {
      if (!flow.certificateRequestAllowed) return undefined;
      await deliver(first.slice(0, at(HandshakeType.server_hello_done)));
      // certificate_types [ecdsa_sign], signature algorithms [0x0403], no CAs.
      plain(handshakeMsg(HandshakeType.certificate_request, new Uint8Array([1, 64, 0, 2, 4, 3, 0, 0])));
      await w.settle();
      return { w, inject: plain, target: w.client };
    }
    case 'ExpectNewSessionTicket':
    case 'ExpectChangeCipherSpec':
      await deliver(first);
      return { w, inject: plain, target: w.client };
    case 'ExpectFinished': {
      await deliver(first);
      w.client.engine.receive(record(ContentType.change_cipher_spec, new Uint8Array([1])));
      await w.settle();
      return {
        w,
        inject: (m, isCcs) => w.client.engine.receive(forgeEncrypted(w, 'server', isCcs === true ? ContentType.change_cipher_spec : ContentType.handshake, m, 0n)),
        target: w.client,
      };
    }
    case 'Traffic': {
      await deliver(first);
      for (const b of held.splice(0)) w.client.engine.receive(b);
      await w.settle();
      return {
        w,
        inject: (m, isCcs) => w.client.engine.receive(forgeEncrypted(w, 'server', isCcs === true ? ContentType.change_cipher_spec : ContentType.handshake, m)),
        target: w.client,
      };
    }
    default: {
      const never: never = state;
      throw new Error(String(never));
    }
  }
}

async function driveServer(flowName: string, state: ServerStateName): Promise<Driven> {
  const clientCert = state === 'ExpectCertificate' || state === 'ExpectCertificateVerify';
  const { w, held } = heldWire(flowName, 'c2s', { clientCert });
  w.client.engine.start();
  await w.settle();
  const plain = (msg: Uint8Array, isCcs = false): void =>
    w.server.engine.receive(isCcs ? record(ContentType.change_cipher_spec, msg) : record(ContentType.handshake, msg));
  if (state === 'ExpectClientHello') return { w, inject: plain, target: w.server };
  w.server.engine.receive(held.splice(0, 1)[0] as Uint8Array);
  await w.settle();
  if (state === 'ExpectClientKeyExchange' || state === 'ExpectCertificate') return { w, inject: plain, target: w.server };
  if (state === 'ExpectCertificateVerify') {
    // The client's second flight starts with one record holding Certificate, ClientKeyExchange, CertificateVerify.
    const [first] = parseRecords(concatBytes(...held.splice(0)));
    if (first === undefined) throw new Error('client second flight missing');
    const msgs = splitHandshake(first.data);
    w.server.engine.receive(record(ContentType.handshake, concatBytes(...msgs.slice(0, 2).map((m) => m.raw))));
    await w.settle();
    return { w, inject: plain, target: w.server };
  }
  // The client's second flight: [CKE record][CCS record][Finished record].
  const recs = parseRecords(concatBytes(...held.splice(0)));
  const [cke, ccs] = recs;
  if (cke === undefined || ccs === undefined) throw new Error('client second flight missing');
  w.server.engine.receive(record(cke.type, cke.data));
  await w.settle();
  if (state === 'ExpectChangeCipherSpec') return { w, inject: plain, target: w.server };
  w.server.engine.receive(record(ccs.type, ccs.data));
  await w.settle();
  if (state === 'ExpectFinished') {
    return {
      w,
      inject: (m, isCcs) => w.server.engine.receive(forgeEncrypted(w, 'client', isCcs === true ? ContentType.change_cipher_spec : ContentType.handshake, m, 0n)),
      target: w.server,
    };
  }
  const fin = recs[2];
  if (fin === undefined) throw new Error('no client Finished');
  w.server.engine.receive(record(fin.type, fin.data));
  await w.settle();
  return {
    w,
    inject: (m, isCcs) => w.server.engine.receive(forgeEncrypted(w, 'client', isCcs === true ? ContentType.change_cipher_spec : ContentType.handshake, m)),
    target: w.server,
  };
}

function expectUnexpected(d: Driven, label: string): void {
  expect(d.target.errors.length, label).toBe(1);
  expect(d.target.errors[0], label).toBeInstanceOf(TlsError);
  expect((d.target.errors[0] as TlsError).alert, `${label}: ${String(d.target.errors[0])}`).toBe(AlertDescription.unexpected_message);
}

describe('flows × states on the real engine: every unexpected message → unexpected_message', () => {
  for (const [flowName, flow] of flows) {
    for (const state of clientStateNames) {
      it(`client ${flowName} ${state}`, async () => {
        const probe = await driveClient(flowName, flow, state);
        if (probe === undefined) {
          // Unreachable in this flow: the table must not expect anything that would lead there.
          if (state === 'ExpectNewSessionTicket') expect(flowName).not.toBe('ECDHE');
          else expect(state === 'ExpectCertificate' ? flow.serverCertificate : flow.certificateRequestAllowed).toBe(false);
          return;
        }
        expect(probe.target.errors, 'driving into the state').toEqual([]);
        const expects = clientExpects(state, flow);
        for (const t of allTypes) {
          if (expects.includes(t) || t === HandshakeType.hello_request) continue; // hello_request: ignored while handshaking (RFC 5246 §7.4.1.1)
          const d = (await driveClient(flowName, flow, state)) as Driven;
          d.inject(handshakeMsg(t, new Uint8Array([0, 1, 2, 3])));
          await d.w.settle();
          expectUnexpected(d, `${state} type ${t}`);
        }
        if (!acceptsChangeCipherSpec(state)) {
          const d = (await driveClient(flowName, flow, state)) as Driven;
          d.inject(new Uint8Array([1]), true);
          await d.w.settle();
          expectUnexpected(d, `${state} CCS`);
        }
      }, 60_000);
    }
    for (const state of serverStateNames) {
      it(`server ${flowName} ${state}`, async () => {
        if ((state === 'ExpectCertificate' || state === 'ExpectCertificateVerify') && !flow.certificateRequestAllowed) {
          // Unreachable: a flow without CertificateRequest never waits for a client certificate.
          expect(flowName).not.toBe('ECDHE');
          return;
        }
        const expects = serverExpects(state, flow);
        for (const t of allTypes) {
          if (expects.includes(t)) continue;
          const d = await driveServer(flowName, state);
          expect(d.target.errors, 'driving into the state').toEqual([]);
          d.inject(handshakeMsg(t, new Uint8Array([0, 1, 2, 3])));
          await d.w.settle();
          expectUnexpected(d, `${state} type ${t}`);
        }
        if (!acceptsChangeCipherSpec(state)) {
          const d = await driveServer(flowName, state);
          d.inject(new Uint8Array([1]), true);
          await d.w.settle();
          expectUnexpected(d, `${state} CCS`);
        }
      }, 60_000);
    }
  }
});
