/** Engines set up to play one side of a recorded milagro-tls MILAGRO_CS session (replay and bad-input tests). */
import { hexToBytes } from '../../src/codec/bytes.ts';
import type { EngineEvents } from '../../src/handshake/engine.ts';
import { milagroCs, type MilagroCsEvent, type MilagroCsOptions, type MilagroCsServerCredentials } from '../../src/kex/milagro-cs.ts';
import { Suites } from '../../src/suites.ts';
import { replayEngine, scriptedRandom, traceHex, traceNumber, type Recording, type ReplayEngine } from './recording.ts';

export function csClientEngine(
  rec: Recording,
  events: EngineEvents,
  over: Partial<MilagroCsOptions> = {},
): ReplayEngine {
  const c = rec.milagro_values_from_amcl_call_trace.client;
  const date = traceNumber(rec, 'client', 'date');
  const permit = c['time_permit_in'];
  const timeValue = traceNumber(rec, 'client', 'timevalue');
  const random = scriptedRandom([
    hexToBytes(rec.debug_output_values.client_random),
    hexToBytes(traceHex(rec, 'client', 'x')),
    ...(typeof c['r'] === 'string' ? [hexToBytes(c['r'])] : []),
  ]);
  const provider = milagroCs({
    client: {
      identity: 'client@miracl.com',
      token: hexToBytes(rec.key_files['CSClientKey'] ?? ''),
      pin: traceNumber(rec, 'client', 'pin'),
      ...(typeof permit === 'string' ? { timePermit: hexToBytes(permit), date } : {}),
    },
    ...over,
  });
  return replayEngine('client', Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256, provider, random, () => timeValue * 1000 + 250, events);
}

export function csServerEngine(
  rec: Recording,
  events: EngineEvents,
  log: MilagroCsEvent[],
  over: Partial<MilagroCsOptions> & { readonly serverCredentials?: Partial<MilagroCsServerCredentials> } = {},
): ReplayEngine {
  const s = rec.milagro_values_from_amcl_call_trace.server;
  const timeValue = traceNumber(rec, 'server', 'timevalue_used');
  const w = typeof s['w'] === 'string' ? [hexToBytes(s['w'])] : [];
  // A compute with the one-job `serverHello` step (worker pools) draws w with the verdict, before
  // the ServerHello random; in-process compute draws it when ServerKeyExchange is written, as
  // milagro-tls does. The same values either way, so the records stay byte-identical.
  const wFirst = over.compute?.serverHello !== undefined;
  const random = scriptedRandom([
    ...(wFirst ? w : []),
    ...(rec.debug_output_values.server_random === null ? [] : [hexToBytes(rec.debug_output_values.server_random)]),
    ...(rec.debug_output_values.session_id === null ? [] : [hexToBytes(rec.debug_output_values.session_id)]),
    ...(wFirst ? [] : w),
  ]);
  const provider = milagroCs({
    server: {
      serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''),
      timePermits: rec.build_config['MBEDTLS_TLS_MILAGRO_CS_TIME_PERMITS'] === true,
      ...over.serverCredentials,
    },
    logger: (e) => log.push(e),
    ...(over.compute === undefined ? {} : { compute: over.compute }),
  });
  return replayEngine('server', Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256, provider, random, () => timeValue * 1000 + 250, events);
}

