/**
 * milagro.md §7.5–§7.7 and issue 7 item 5: the recorded milagro-tls MILAGRO_P2P session
 * (`p2p_default`) replayed through the sans-I/O engine with injected randomness (the recorded
 * randoms, session id, x, w, y) and a fixed clock. Playing either role against the other side's
 * recorded records, every record we emit must equal the recorded one byte for byte, every random
 * value must be drawn in the recorded order (client: w before y), and we must accept everything
 * the original sent.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, AlertDescription } from '../../src/alerts.ts';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { milagroP2p, type MilagroP2pEvent, type MilagroP2pOptions } from '../../src/kex/milagro-p2p.ts';
import { Suites } from '../../src/suites.ts';
import { collector, feed, loadRecording, playRecording, replayEngine, scriptedRandom, type Recording, type ReplayEngine, type Role } from './recording.ts';


const rec = loadRecording('p2p_default');
const trace = rec.milagro_values_from_amcl_call_trace as unknown as {
  readonly server_sender: Record<string, string>;
  readonly client_receiver: Record<string, string>;
};
const CLOCK = (): number => Date.UTC(2026, 10, 28, 4, 0, 0);

function hexField(side: Record<string, string>, field: string): Uint8Array {
  const v = side[field];
  if (typeof v !== 'string') throw new Error(`p2p_default: trace field ${field} missing`);
  return hexToBytes(v);
}

function keyFile(name: string): Uint8Array {
  const v = rec.key_files[name];
  if (v === undefined) throw new Error(`p2p_default: key file ${name} missing`);
  return hexToBytes(v);
}

function clientEngine(
  r: Recording,
  events: ReturnType<typeof collector>['events'],
  log: MilagroP2pEvent[],
  client: Partial<NonNullable<MilagroP2pOptions['client']>> = {},
): ReplayEngine {
  const random = scriptedRandom([
    hexToBytes(r.debug_output_values.client_random),
    hexField(trace.client_receiver, 'w'),
    hexField(trace.client_receiver, 'y'),
  ]);
  const provider = milagroP2p({
    client: { identity: 'client@miracl.com', receiverKey: keyFile('P2PClientKey'), serverIdentity: 'server.miracl.com', ...client },
    logger: (e) => log.push(e),
  });
  return replayEngine('client', Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256, provider, random, CLOCK, events);
}

function serverEngine(
  r: Recording,
  events: ReturnType<typeof collector>['events'],
  log: MilagroP2pEvent[],
  server: Partial<NonNullable<MilagroP2pOptions['server']>> = {},
): ReplayEngine {
  const random = scriptedRandom([
    hexToBytes(r.debug_output_values.server_random ?? ''),
    hexToBytes(r.debug_output_values.session_id ?? ''),
    hexField(trace.server_sender, 'x'),
  ]);
  const provider = milagroP2p({
    server: { identity: 'server.miracl.com', senderKey: keyFile('P2PServerKey'), ...server },
    logger: (e) => log.push(e),
  });
  return replayEngine('server', Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256, provider, random, CLOCK, events);
}

/** Play `role` through the whole recording (see playRecording). */
async function replay(role: Role): Promise<{ c: ReturnType<typeof collector>; log: MilagroP2pEvent[] }> {
  const c = collector();
  const log: MilagroP2pEvent[] = [];
  const engine = role === 'client' ? clientEngine(rec, c.events, log) : serverEngine(rec, c.events, log);
  await playRecording(rec, role, engine, c);
  return { c, log };
}

describe('milagro.md §7.5 MILAGRO_P2P: replay of the live milagro-tls session p2p_default', () => {
  it('as client: byte-identical records (ClientHello, CKE with w then y, Finished, data, close)', async () => {
    const { c, log } = await replay('client');
    expect(c.secure?.suite.id).toBe(0xc0b2);
    expect(c.secure?.peerIdentity).toMatchObject({ kind: 'wcc', identity: 'server.miracl.com' });
    expect(bytesToHex(c.secure?.peerIdentity?.hashId ?? new Uint8Array())).toBe(createHash('sha256').update('server.miracl.com').digest('hex'));
    expect(c.secure?.peerCertificates).toEqual([]);
    expect(c.secure?.authorized).toBe(true);
    expect(c.data.length).toBe(1);
    expect(log).toEqual([{ kind: 'accepted', role: 'client', peer: '"server.miracl.com"' }]);
  });

  it('as server: byte-identical records (ServerHello, SKE with x, Finished, data, close)', async () => {
    const { c, log } = await replay('server');
    expect(c.secure?.peerIdentity).toMatchObject({ kind: 'wcc', identity: 'client@miracl.com' });
    expect(c.secure?.authorized).toBe(true);
    expect(c.data.length).toBe(1);
    expect(log).toEqual([{ kind: 'accepted', role: 'server', peer: '"client@miracl.com"' }]);
  });

  it('as server: the client identity is reported only after its Finished verified (§7.7)', async () => {
    const c = collector();
    const engine = serverEngine(rec, c.events, []);
    const fromClient = rec.records.filter((r) => r.direction === 'client_to_server');
    await feed(engine, fromClient.slice(0, 1)); // ClientHello
    const flight = c.take();
    const serverRecords = rec.records.filter((r) => r.direction === 'server_to_client');
    expect(flight).toBe(serverRecords.slice(0, 3).map((r) => r.record_hex).join(''));
    await feed(engine, fromClient.slice(1, 3)); // ClientKeyExchange, ChangeCipherSpec
    expect(c.secure).toBeUndefined();
    await feed(engine, fromClient.slice(3, 4)); // Finished
    expect(c.secure?.peerIdentity?.identity).toBe('client@miracl.com');
  });

  it('as client with the default policy (servername) and no servername: access_denied, nothing else sent', async () => {
    const c = collector();
    const log: MilagroP2pEvent[] = [];
    const engine = clientEngine(rec, c.events, log, { serverIdentity: undefined });
    engine.start();
    await engine.idle;
    expect(c.take()).toBe(rec.records[0]?.record_hex);
    await feed(engine, rec.records.slice(1, 4));
    const out = hexToBytes(c.take());
    expect([...out]).toEqual([21, 3, 3, 0, 2, 2, AlertDescription.access_denied]);
    expect(c.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(log.map((e) => e.kind === 'rejected' && e.reason)).toEqual(['no-expected-identity']);
  });

  it('as client expecting another server identity: access_denied before any ClientKeyExchange', async () => {
    const c = collector();
    const log: MilagroP2pEvent[] = [];
    const engine = clientEngine(rec, c.events, log, { serverIdentity: ['server.example.org', 'other.miracl.com'] });
    engine.start();
    await engine.idle;
    c.take();
    await feed(engine, rec.records.slice(1, 4));
    expect([...hexToBytes(c.take())]).toEqual([21, 3, 3, 0, 2, 2, AlertDescription.access_denied]);
    expect(engine.state).toBe('failed');
    expect(log).toMatchObject([{ kind: 'rejected', role: 'client', reason: 'unexpected-identity', peer: '"server.miracl.com"' }]);
    // w and y were never drawn: the check comes before the key exchange.
    expect(engine.randomLeft()).toBe(2);
  });

  it('as server restricting clients: client@miracl.com not in the list → access_denied', async () => {
    const c = collector();
    const log: MilagroP2pEvent[] = [];
    const engine = serverEngine(rec, c.events, log, { allowedClients: (peer) => peer.text === 'someone@miracl.com' });
    await feed(engine, rec.records.slice(0, 1));
    c.take();
    await feed(engine, rec.records.slice(4, 5));
    expect([...hexToBytes(c.take())]).toEqual([21, 3, 3, 0, 2, 2, AlertDescription.access_denied]);
    expect(c.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(log).toMatchObject([{ kind: 'rejected', role: 'server', reason: 'unexpected-identity', peer: '"client@miracl.com"' }]);
  });

  it('as server with client@miracl.com in the allow list: the session replays unchanged', async () => {
    const c = collector();
    const engine = serverEngine(rec, c.events, [], { allowedClients: ['admin@miracl.com', 'client@miracl.com'] });
    await feed(engine, rec.records.filter((r) => r.direction === 'client_to_server').slice(0, 4));
    expect(c.secure?.peerIdentity?.identity).toBe('client@miracl.com');
  });
});
