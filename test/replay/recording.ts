/**
 * Replay harness for the recorded milagro-tls sessions (test/vectors/tls-transcripts.json): a
 * scripted RandomSource that hands out exactly the recorded values in order, a fixed clock, and
 * a driver that pushes one side's recorded records into our sans-I/O engine and collects what it
 * emits. Shared by the MILAGRO_CS and MILAGRO_P2P replay tests.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { hexToBytes, bytesToHex } from '../../src/codec/bytes.ts';
import type { RandomSource } from '../../src/providers.ts';
import { clientConfig, serverConfig } from '../../src/handshake/config.ts';
import { TlsEngine, type EngineEvents, type HandshakeInfo } from '../../src/handshake/engine.ts';
import type { KeyExchangeProvider } from '../../src/kex/key-exchange.ts';
import { KexRegistry } from '../../src/kex/registry.ts';
import type { CipherSuite } from '../../src/suites.ts';

export interface RecordedRecord {
  readonly index: number;
  readonly direction: 'client_to_server' | 'server_to_client';
  readonly content_type: number;
  readonly record_hex: string;
  readonly encrypted: boolean;
  readonly plaintext_hex?: string;
}

export interface Recording {
  readonly name: string;
  readonly ciphersuite_id: string;
  readonly build_config: Record<string, boolean>;
  readonly date_days_since_epoch: number | null;
  readonly key_files: Record<string, string>;
  readonly records: readonly RecordedRecord[];
  readonly debug_output_values: Record<string, unknown> & {
    readonly client_random: string;
    readonly server_random: string | null;
    readonly session_id: string | null;
  };
  readonly milagro_values_from_amcl_call_trace: {
    readonly client: Record<string, unknown>;
    readonly server: Record<string, unknown>;
  };
}

export function loadRecording(name: string): Recording {
  const file = JSON.parse(readFileSync(new URL('../vectors/tls-transcripts.json', import.meta.url), 'utf8')) as { transcripts: Recording[] };
  const t = file.transcripts.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no recording ${name}`);
  return t;
}

/** A string field of the AMCL call trace (throws if absent, so a test cannot pass on undefined). */
export function traceHex(rec: Recording, side: 'client' | 'server', field: string): string {
  const v = rec.milagro_values_from_amcl_call_trace[side][field];
  if (typeof v !== 'string') throw new Error(`${rec.name}: trace ${side}.${field} missing`);
  return v;
}

export function traceNumber(rec: Recording, side: 'client' | 'server', field: string): number {
  const v = rec.milagro_values_from_amcl_call_trace[side][field];
  if (typeof v !== 'number') throw new Error(`${rec.name}: trace ${side}.${field} missing`);
  return v;
}

/**
 * A RandomSource that returns exactly `values`, in order, and fails loudly if asked for a
 * different length or for more — so the test also proves the order of draws.
 */
export function scriptedRandom(values: readonly Uint8Array[]): RandomSource & { readonly remaining: () => number } {
  const queue = [...values];
  const f = (n: number): Uint8Array => {
    const next = queue.shift();
    if (next === undefined) throw new Error(`scripted random exhausted (asked for ${n} bytes)`);
    if (next.length !== n) throw new Error(`scripted random: asked for ${n} bytes, next value has ${next.length} (${bytesToHex(next)})`);
    return next.slice();
  };
  return Object.assign(f, { remaining: () => queue.length });
}

export function recordBytes(r: RecordedRecord): Uint8Array {
  return hexToBytes(r.record_hex);
}

export function concatHex(records: readonly RecordedRecord[]): string {
  return records.map((r) => r.record_hex).join('');
}

export interface Collected {
  readonly events: EngineEvents;
  out: string;
  readonly data: Uint8Array[];
  readonly errors: Error[];
  secure: HandshakeInfo | undefined;
  peerClosed: boolean;
  /** Take what was emitted since the last call, as hex. */
  take(): string;
}

export function collector(): Collected {
  const c: Collected = {
    out: '',
    data: [],
    errors: [],
    secure: undefined,
    peerClosed: false,
    events: {
      onOutgoing: (b) => {
        c.out += bytesToHex(b);
      },
      onData: (b) => c.data.push(b),
      onSecure: (info) => {
        c.secure = info;
      },
      onKeylog: () => undefined,
      onPeerClose: () => {
        c.peerClosed = true;
      },
      onError: (e) => c.errors.push(e),
    },
    take: () => {
      const s = c.out;
      c.out = '';
      return s;
    },
  };
  return c;
}

/** Feed records and wait for any asynchronous key-exchange step to finish. */
export async function feed(engine: TlsEngine, records: readonly RecordedRecord[]): Promise<void> {
  for (const r of records) engine.receive(recordBytes(r));
  await engine.idle;
}

export type Role = 'client' | 'server';

/** Whether `role` sent this record. */
export function isOurs(r: RecordedRecord, role: Role): boolean {
  return (r.direction === 'client_to_server') === (role === 'client');
}

/**
 * Play `role` through the whole recording: peer records are fed in order (recorded application
 * data must come out as recorded); each of our records must appear in our output exactly,
 * triggered by the handshake itself or — for the first ClientHello, application data and a close
 * we initiate — by start()/write()/close(). Afterwards nothing else was sent, no error was raised,
 * the peer closed, and every recorded random value was drawn, in the recorded order.
 */
export async function playRecording(rec: Recording, role: Role, engine: TlsEngine & { randomLeft(): number }, c: Collected): Promise<void> {
  let out = '';
  let matched = 0;
  for (const r of rec.records) {
    if (!isOurs(r, role)) {
      await feed(engine, [r]);
      out += c.take();
      if (r.content_type === 23) expect(bytesToHex(c.data.at(-1) ?? new Uint8Array())).toBe(r.plaintext_hex);
      continue;
    }
    const want = r.record_hex;
    if (out.slice(matched, matched + want.length) !== want) {
      if (r.index === 0) engine.start();
      else if (r.content_type === 23) engine.write(hexToBytes(r.plaintext_hex ?? ''));
      else if (r.content_type === 21) engine.close();
      await engine.idle;
      out += c.take();
    }
    expect(out.slice(matched, matched + want.length), `record ${r.index} (${r.direction})`).toBe(want);
    matched += want.length;
  }
  expect(out.length).toBe(matched);
  expect(c.errors).toEqual([]);
  expect(c.peerClosed).toBe(true);
  expect(engine.randomLeft()).toBe(0);
}

export type ReplayEngine = TlsEngine & { randomLeft(): number };

/**
 * An engine configured like the recorded milagro-tls peer: only `suite`, no extended master secret
 * (the recorded builds predate RFC 7627), one record per handshake message (as mbedTLS sends
 * them), the scripted randomness and a fixed clock; `randomLeft` counts the values not drawn.
 */
export function replayEngine(
  role: Role,
  suite: CipherSuite,
  provider: KeyExchangeProvider,
  random: ReturnType<typeof scriptedRandom>,
  clock: () => number,
  events: EngineEvents,
): ReplayEngine {
  const common = { suites: [suite], kex: KexRegistry.of(provider), random, clock, extendedMasterSecret: false, recordPerHandshakeMessage: true };
  const engine = role === 'client' ? TlsEngine.client(clientConfig({ ca: [], rejectUnauthorized: true, ...common }), events) : TlsEngine.server(serverConfig(common), events);
  return Object.assign(engine, { randomLeft: random.remaining });
}
