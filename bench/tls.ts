/**
 * TLS benchmark (issue 3): full handshakes per second with our client and server on loopback
 * (X25519 + ECDSA P-256 + AES-128-GCM) against node:tls with the same certificate in the same
 * run, and bulk throughput over one connection with the noble provider, the node:crypto provider
 * and node:tls. Client and server share this process in every case, so each figure includes
 * both ends' work, for us and for node:tls alike. Cases are interleaved round by round so load
 * drift on a shared machine affects all of them.
 *
 * Issue 4: resumed handshakes (RFC 5077 ticket, abbreviated handshake) for us and node:tls in the
 * same rounds, and RSA-2048 signing/verification times (rsa_pss_rsae_sha256, rsa_pkcs1_sha256)
 * with node:crypto's for scale.
 *
 * Handshakes run with each crypto provider: 'noble' (pure TypeScript, the default) and 'node'
 * (node:crypto for AEAD, ECDH and signatures). Every client — ours and node:tls — reuses one secure
 * context (trust anchors parsed once; ours also remembers verified chain links, so a reconnect
 * verifies only the ServerKeyExchange signature). One extra row shows the noble client without a
 * secure context (chain verified on every connect).
 *
 * Targets: our handshake wall time ≤ 2× node:tls (full and resumed); node:crypto provider bulk ≥
 * 50% of node:tls.
 *
 *   npx tsx bench/tls.ts [--json] [--quick]
 */
import { gcm } from '@noble/ciphers/aes.js';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import * as nodeTls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { constants as cryptoConstants, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { connect, createSecureContext, createServer, type ConnectionOptions, type Server } from '../src/index.ts';
import { SignatureScheme, loadPrivateKey, signTls, verifyTls } from '../src/x509/index.ts';
import { systemRandom } from '../src/providers.ts';

export interface TlsBenchResult {
  readonly name: string;
  readonly median_ms: number;
  readonly samples: number;
  /** Bulk cases: median throughput. */
  readonly mb_per_s?: number;
  /** Handshake cases: 1000 / median_ms. */
  readonly per_s?: number;
}

export interface TlsBenchReport {
  readonly results: readonly TlsBenchResult[];
  readonly ratios: Readonly<Record<string, number>>;
}

const certs = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'certs');
const ca = readFileSync(resolve(certs, 'ca-ec.pem'));
const cert = readFileSync(resolve(certs, 'server-ec256.pem'));
const key = readFileSync(resolve(certs, 'server-ec256.key'));
const SUITE = 'ECDHE-ECDSA-AES128-GCM-SHA256';
// X25519 is negotiated; P-256 must be listed too because TLS 1.2 supported_groups also covers the
// ECDSA certificate's curve (RFC 8422 §5.1).
const CURVES = 'X25519:P-256';
const MiB = 1024 * 1024;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function listen(server: Server | NetServer): Promise<number> {
  (server as NetServer).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

interface Endpoint {
  readonly name: string;
  /** One full handshake, then close; resolves with the wall time in ms. */
  handshake(): Promise<number>;
  /** One handshake resuming a ticketed session from an earlier full handshake; wall time in ms. */
  resumed(): Promise<number>;
  /** Sends `bytes` client → server over one connection; resolves with the ms from first write to last byte received. */
  bulk(bytes: number): Promise<number>;
  close(): Promise<void>;
}

/** Receives `total` bytes on the server side of the next connection. */
type Sink = { expect: number; done: () => void; got: number };

/**
 * Bulk timing shared by both endpoints: write `bytes` in 64 KiB chunks (honouring backpressure)
 * until the server's sink, armed through `arm`, has counted them all.
 */
async function timeBulk(c: NodeJS.WritableStream & { once: NodeJS.EventEmitter['once'] }, bytes: number, arm: (s: Sink | undefined) => void): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0xab);
  const received = new Promise<void>((done) => arm({ expect: bytes, done, got: 0 }));
  const t0 = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!c.write(chunk)) await once(c, 'drain');
  }
  await received;
  const t = performance.now() - t0;
  arm(undefined);
  return t;
}

async function oursEndpoint(provider: 'noble' | 'node', shareContext = true): Promise<Endpoint> {
  let sink: Sink | undefined;
  const server = createServer({ key, cert, ciphers: SUITE, ecdhCurve: CURVES, cryptoProvider: provider }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      if (sink === undefined) return;
      sink.got += d.length;
      if (sink.got >= sink.expect) sink.done();
    });
  });
  const port = await listen(server);
  const base = { host: '127.0.0.1', port, servername: 'localhost', ciphers: SUITE, ecdhCurve: CURVES } as const;
  const opts: ConnectionOptions = shareContext
    ? { ...base, secureContext: createSecureContext({ ca, cryptoProvider: provider }) }
    : { ...base, ca, cryptoProvider: provider };
  let session: Buffer | undefined;
  return {
    name: `milagro-ts (${provider}${shareContext ? '' : ', no secure context'})`,
    async handshake() {
      const t0 = performance.now();
      const c = connect(opts);
      await once(c, 'secureConnect');
      const t = performance.now() - t0;
      c.destroy();
      return t;
    },
    async resumed() {
      if (session === undefined) {
        const c = connect(opts);
        const [s] = (await once(c, 'session')) as [Buffer];
        session = s;
        c.destroy();
      }
      const t0 = performance.now();
      const c = connect({ ...opts, session });
      await once(c, 'secureConnect');
      const t = performance.now() - t0;
      if (!c.isSessionReused()) throw new Error('milagro-ts: session was not resumed');
      c.destroy();
      return t;
    },
    async bulk(bytes) {
      const c = connect(opts);
      await once(c, 'secureConnect');
      const t = await timeBulk(c, bytes, (next) => {
        sink = next;
      });
      c.destroy();
      return t;
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function nodeTlsEndpoint(): Promise<Endpoint> {
  let sink: Sink | undefined;
  const server = nodeTls.createServer({ key, cert, ciphers: SUITE, ecdhCurve: CURVES, maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      if (sink === undefined) return;
      sink.got += d.length;
      if (sink.got >= sink.expect) sink.done();
    });
  });
  const port = await listen(server);
  const tls12 = { ciphers: SUITE, ecdhCurve: CURVES, maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' } as const;
  // Like ours: one secure context for all connections (CA parsed once).
  const opts = { host: '127.0.0.1', port, servername: 'localhost', ...tls12, secureContext: nodeTls.createSecureContext({ ca, ...tls12 }) };
  let session: Buffer | undefined;
  return {
    name: 'node:tls',
    async handshake() {
      const t0 = performance.now();
      // No `session` option: every connection is a full handshake.
      const c = nodeTls.connect(opts);
      await once(c, 'secureConnect');
      const t = performance.now() - t0;
      c.destroy();
      return t;
    },
    async resumed() {
      if (session === undefined) {
        const c = nodeTls.connect(opts);
        const [s] = (await once(c, 'session')) as [Buffer];
        session = s;
        c.destroy();
      }
      const t0 = performance.now();
      const c = nodeTls.connect({ ...opts, session });
      await once(c, 'secureConnect');
      const t = performance.now() - t0;
      if (!c.isSessionReused()) throw new Error('node:tls: session was not resumed');
      c.destroy();
      return t;
    },
    async bulk(bytes) {
      const c = nodeTls.connect(opts);
      await once(c, 'secureConnect');
      const t = await timeBulk(c, bytes, (next) => {
        sink = next;
      });
      c.destroy();
      return t;
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * RSA-2048 server signatures (what a ServerKeyExchange costs) and their verification, ours
 * (src/x509 bigint RSA with CRT) next to node:crypto (OpenSSL) for scale.
 */
function rsaTimes(rounds: number): TlsBenchResult[] {
  const pem = readFileSync(resolve(certs, 'server-rsa2048.key'), 'utf8');
  const ourKey = loadPrivateKey(pem);
  const nodeKey = createPrivateKey(pem);
  const nodePub = createPublicKey(nodeKey);
  const data = new Uint8Array(32 + 32 + 69).fill(7);
  const out: TlsBenchResult[] = [];
  const time = (name: string, f: () => void): void => {
    for (let i = 0; i < 3; i++) f();
    const xs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      f();
      xs.push(performance.now() - t0);
    }
    const m = median(xs);
    out.push({ name, median_ms: Number(m.toFixed(3)), samples: xs.length, per_s: Number((1000 / m).toFixed(1)) });
  };
  for (const [label, scheme, padding] of [
    ['rsa_pss_rsae_sha256', SignatureScheme.rsa_pss_rsae_sha256, cryptoConstants.RSA_PKCS1_PSS_PADDING],
    ['rsa_pkcs1_sha256', SignatureScheme.rsa_pkcs1_sha256, cryptoConstants.RSA_PKCS1_PADDING],
  ] as const) {
    const sig = signTls(ourKey, scheme, data, systemRandom);
    const nodeOpts = { key: nodeKey, padding, saltLength: 32 };
    time(`RSA-2048 sign ${label} milagro-ts`, () => signTls(ourKey, scheme, data, systemRandom));
    time(`RSA-2048 sign ${label} node:crypto`, () => nodeSign('sha256', data, nodeOpts));
    time(`RSA-2048 verify ${label} milagro-ts`, () => {
      if (!verifyTls(ourKey.publicKey, scheme, data, sig)) throw new Error('RSA verify failed');
    });
    time(`RSA-2048 verify ${label} node:crypto`, () => {
      if (!nodeVerify('sha256', data, { key: nodePub, padding, saltLength: 32 }, sig)) throw new Error('node verify failed');
    });
  }
  return out;
}

/** Raw noble AES-128-GCM seal+open of 16 KiB: the crypto bound for the noble bulk case. */
function rawNobleSealOpen(bytes: number): number {
  const k = new Uint8Array(16).fill(1);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(13);
  const rec = new Uint8Array(16 * 1024);
  const t0 = performance.now();
  for (let done = 0; done < bytes; done += rec.length) {
    const sealed = gcm(k, nonce, aad).encrypt(rec);
    gcm(k, nonce, aad).decrypt(sealed);
  }
  return performance.now() - t0;
}

export async function runTlsBench(opts: { json: boolean; quick?: boolean }): Promise<TlsBenchReport> {
  const quick = opts.quick === true;
  const hsRounds = quick ? 15 : 60;
  const bulkRounds = quick ? 3 : 5;
  const nobleBytes = quick ? 4 * MiB : 16 * MiB;
  const fastBytes = quick ? 16 * MiB : 64 * MiB;

  const ours = await oursEndpoint('noble');
  const oursNode = await oursEndpoint('node');
  const oursFresh = await oursEndpoint('noble', false);
  const node = await nodeTlsEndpoint();
  const hs: Record<string, number[]> = { ours: [], oursNode: [], oursFresh: [], node: [], oursResumed: [], oursNodeResumed: [], nodeResumed: [] };
  const bulk: Record<string, number[]> = { noble: [], oursNode: [], node: [], raw: [] };
  try {
    // Warm-up: JIT, lazy tables, certificate parsing caches.
    for (let i = 0; i < 5; i++) {
      await ours.handshake();
      await oursNode.handshake();
      await oursFresh.handshake();
      await node.handshake();
    }
    await ours.bulk(MiB);
    await oursNode.bulk(MiB);
    await node.bulk(MiB);

    for (let i = 0; i < 5; i++) {
      await ours.resumed();
      await oursNode.resumed();
      await node.resumed();
    }
    for (let r = 0; r < hsRounds; r++) {
      hs.ours?.push(await ours.handshake());
      hs.oursNode?.push(await oursNode.handshake());
      hs.oursFresh?.push(await oursFresh.handshake());
      hs.node?.push(await node.handshake());
      hs.oursResumed?.push(await ours.resumed());
      hs.oursNodeResumed?.push(await oursNode.resumed());
      hs.nodeResumed?.push(await node.resumed());
    }
    for (let r = 0; r < bulkRounds; r++) {
      bulk.noble?.push(await ours.bulk(nobleBytes));
      bulk.oursNode?.push(await oursNode.bulk(fastBytes));
      bulk.node?.push(await node.bulk(fastBytes));
      bulk.raw?.push(rawNobleSealOpen(nobleBytes));
    }
  } finally {
    await ours.close();
    await oursNode.close();
    await oursFresh.close();
    await node.close();
  }

  const hsResult = (name: string, xs: number[]): TlsBenchResult => {
    const m = median(xs);
    return { name, median_ms: Number(m.toFixed(3)), samples: xs.length, per_s: Number((1000 / m).toFixed(1)) };
  };
  const bulkResult = (name: string, xs: number[], bytes: number): TlsBenchResult => {
    const m = median(xs);
    return { name, median_ms: Number(m.toFixed(2)), samples: xs.length, mb_per_s: Number((bytes / 1e6 / (m / 1000)).toFixed(1)) };
  };
  const rsa = rsaTimes(quick ? 20 : 60);
  const results: TlsBenchResult[] = [
    hsResult('handshake milagro-ts noble client+server (X25519, ECDSA P-256, AES-128-GCM)', hs.ours ?? []),
    hsResult('handshake milagro-ts node:crypto provider (same)', hs.oursNode ?? []),
    hsResult('handshake milagro-ts noble, no secure context (chain verified each time)', hs.oursFresh ?? []),
    hsResult('handshake node:tls client+server (same)', hs.node ?? []),
    hsResult('resumed handshake milagro-ts noble (ticket)', hs.oursResumed ?? []),
    hsResult('resumed handshake milagro-ts node:crypto provider (ticket)', hs.oursNodeResumed ?? []),
    hsResult('resumed handshake node:tls (ticket)', hs.nodeResumed ?? []),
    ...rsa,
    bulkResult(`bulk milagro-ts noble provider, ${nobleBytes / MiB} MiB`, bulk.noble ?? [], nobleBytes),
    bulkResult(`bulk milagro-ts node:crypto provider, ${fastBytes / MiB} MiB`, bulk.oursNode ?? [], fastBytes),
    bulkResult(`bulk node:tls, ${fastBytes / MiB} MiB`, bulk.node ?? [], fastBytes),
    bulkResult(`raw noble AES-128-GCM seal+open 16 KiB records, ${nobleBytes / MiB} MiB`, bulk.raw ?? [], nobleBytes),
  ];
  /** Median over rounds of baseline time / our time (≥ 1: we are as fast). */
  const pairedRatio = (base: readonly number[], ours: readonly number[]): number =>
    Number(median(base.map((b, i) => b / (ours[i] ?? Number.NaN))).toFixed(3));
  const mbpsOf = (prefix: string): number => results.find((r) => r.name.startsWith(prefix))?.mb_per_s ?? Number.NaN;
  const ratios = {
    handshake_time_ours_vs_node_tls: Number((median(hs.ours ?? []) / median(hs.node ?? [])).toFixed(3)),
    handshake_time_ours_node_provider_vs_node_tls: Number((median(hs.oursNode ?? []) / median(hs.node ?? [])).toFixed(3)),
    handshake_time_ours_no_secure_context_vs_node_tls: Number((median(hs.oursFresh ?? []) / median(hs.node ?? [])).toFixed(3)),
    resumed_handshake_time_ours_vs_node_tls: Number((median(hs.oursResumed ?? []) / median(hs.nodeResumed ?? [])).toFixed(3)),
    resumed_handshake_time_ours_node_provider_vs_node_tls: Number((median(hs.oursNodeResumed ?? []) / median(hs.nodeResumed ?? [])).toFixed(3)),
    bulk_node_provider_vs_node_tls: Number((mbpsOf('bulk milagro-ts node:crypto') / mbpsOf('bulk node:tls')).toFixed(3)),
    bulk_noble_provider_vs_node_tls: Number((mbpsOf('bulk milagro-ts noble') / mbpsOf('bulk node:tls')).toFixed(3)),
    bulk_noble_provider_vs_raw_noble_seal_open: Number((mbpsOf('bulk milagro-ts noble') / mbpsOf('raw noble')).toFixed(3)),
    // Same ratios as medians of per-round pairs (the cases of one round ran back to back, so load
    // swings on a shared machine cancel); equal byte counts, so a time ratio is a MB/s ratio.
    bulk_node_provider_vs_node_tls_paired: pairedRatio(bulk.node ?? [], bulk.oursNode ?? []),
    bulk_noble_provider_vs_raw_noble_seal_open_paired: pairedRatio(bulk.raw ?? [], bulk.noble ?? []),
  };
  const report: TlsBenchReport = { results, ratios };
  if (opts.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log('TLS benchmark (loopback; client and server in this process; medians)');
    for (const r of results) {
      const extra = r.per_s !== undefined ? `${r.per_s.toFixed(1).padStart(8)} /s` : `${(r.mb_per_s ?? 0).toFixed(1).padStart(8)} MB/s`;
      console.log(`  ${r.name.padEnd(72)} ${r.median_ms.toFixed(3).padStart(10)} ms ${extra}  (${r.samples} samples)`);
    }
    const targets: Record<string, string> = {
      handshake_time_ours_vs_node_tls: 'target ≤ 2 (noble)',
      handshake_time_ours_node_provider_vs_node_tls: 'target ≤ 2 (node:crypto)',
      resumed_handshake_time_ours_vs_node_tls: 'target ≤ 2 (noble)',
      resumed_handshake_time_ours_node_provider_vs_node_tls: 'target ≤ 2 (node:crypto)',
      bulk_node_provider_vs_node_tls: 'target ≥ 0.5',
      bulk_node_provider_vs_node_tls_paired: 'target ≥ 0.5',
      bulk_noble_provider_vs_raw_noble_seal_open: 'target ≥ 0.9',
      bulk_noble_provider_vs_raw_noble_seal_open_paired: 'target ≥ 0.9',
    };
    console.log('ratios:');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(54)} ${v.toFixed(3).padStart(7)}  ${targets[k] ?? ''}`);
  }
  return report;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runTlsBench({ json: process.argv.includes('--json'), quick: process.argv.includes('--quick') });
}
