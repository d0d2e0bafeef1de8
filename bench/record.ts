/**
 * Record-layer throughput on 16 KiB application-data records (issue 3 target: record layer with
 * noble ≥ 90% of raw noble AES-128-GCM). Cases are interleaved round by round so that CPU
 * frequency drift affects all of them alike; each sample times a small batch of operations.
 *
 *   npx tsx bench/record.ts [--json]
 */
import { gcm } from '@noble/ciphers/aes.js';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { nobleAeadProvider } from '../src/crypto/aead/noble.ts';
import { nodeAeadProvider } from '../src/crypto/aead/node.ts';
import type { AeadProvider } from '../src/crypto/aead/provider.ts';
import { ContentType } from '../src/record/content-type.ts';
import { aeadProtection } from '../src/record/protection.ts';
import { RecordLayer } from '../src/record/record-layer.ts';
import { Aeads } from '../src/suites.ts';

const RECORD = 16 * 1024;

interface Case {
  readonly name: string;
  readonly run: () => void;
  /** Plaintext bytes per run; RECORD when omitted. */
  readonly bytes?: number;
}

export interface RecordBenchResult {
  readonly name: string;
  readonly median_ms: number;
  readonly samples: number;
  readonly mb_per_s: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function cases(): Case[] {
  const key = new Uint8Array(16).fill(0x42);
  const salt = new Uint8Array(4).fill(0x24);
  const data = new Uint8Array(RECORD).map((_, i) => i * 7);
  const aad = new Uint8Array(13);
  let nonceCounter = 0;
  const nonce = (): Uint8Array => {
    const n = new Uint8Array(12);
    n.set(salt, 0);
    new DataView(n.buffer).setUint32(8, nonceCounter++);
    return n;
  };

  const writer = (provider: AeadProvider): RecordLayer => {
    const w = new RecordLayer();
    w.setPendingWrite(aeadProtection(Aeads.aes128gcm, key, salt, provider));
    w.activateWrite();
    return w;
  };
  // For the read direction: pre-encrypt a stream, then re-feed it to fresh readers in sequence order.
  const reader = (provider: AeadProvider): (() => void) => {
    const w = writer(provider);
    const wire: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) wire.push(w.write(ContentType.application_data, data));
    let r = new RecordLayer();
    let i = 0;
    return () => {
      if (i === wire.length) {
        r = new RecordLayer();
        i = 0;
      }
      if (i === 0) {
        r.setPendingRead(aeadProtection(Aeads.aes128gcm, key, salt, provider));
        r.activateRead();
      }
      r.push(wire[i++] as Uint8Array);
      if (r.read()?.data.length !== RECORD) throw new Error('bench: record did not decrypt');
    };
  };

  // Raw opens cycle through 64 distinct sealed records, like the record-layer readers do, so
  // both sides see the same cache behaviour.
  const fixedNonce = new Uint8Array(12).fill(1);
  const sealedSet = Array.from({ length: 64 }, () => gcm(key, fixedNonce, aad).encrypt(data));
  let sealedAt = 0;
  const nextSealed = (): Uint8Array => sealedSet[sealedAt++ % sealedSet.length] as Uint8Array;

  const data4 = new Uint8Array(4 * RECORD).map((_, i) => i * 7);
  const wNoble = writer(nobleAeadProvider);
  const wNode = writer(nodeAeadProvider);
  return [
    { name: 'raw noble AES-128-GCM seal 16KiB', run: () => void gcm(key, nonce(), aad).encrypt(data) },
    { name: 'record layer write (noble) 16KiB', run: () => void wNoble.write(ContentType.application_data, data) },
    { name: 'raw noble AES-128-GCM open 16KiB', run: () => void gcm(key, fixedNonce, aad).decrypt(nextSealed()) },
    { name: 'record layer read (noble) 16KiB', run: reader(nobleAeadProvider) },
    {
      name: 'raw node:crypto AES-128-GCM seal 16KiB',
      run: () => {
        const c = createCipheriv('aes-128-gcm', key, nonce());
        c.setAAD(aad);
        c.update(data);
        c.final();
        c.getAuthTag();
      },
    },
    { name: 'record layer write (node) 16KiB', run: () => void wNode.write(ContentType.application_data, data) },
    {
      name: 'raw node:crypto AES-128-GCM open 16KiB',
      run: () => {
        const sealed = nextSealed();
        const d = createDecipheriv('aes-128-gcm', key, fixedNonce);
        d.setAuthTag(sealed.subarray(RECORD));
        d.setAAD(aad);
        d.update(sealed.subarray(0, RECORD));
        d.final();
      },
    },
    { name: 'record layer read (node) 16KiB', run: reader(nodeAeadProvider) },
    // One 64 KiB write: four records sealed into one buffer (the TLSSocket bulk path).
    { name: 'record layer write (node) 64KiB, 4 records', run: () => void wNode.write(ContentType.application_data, data4), bytes: 4 * RECORD },
    { name: 'record layer write (noble) 64KiB, 4 records', run: () => void wNoble.write(ContentType.application_data, data4), bytes: 4 * RECORD },
  ];
}

export async function runRecordBench(opts: { json: boolean }): Promise<{ results: RecordBenchResult[]; ratios: Record<string, number> }> {
  const list = cases();
  const batch = 4;
  const rounds = 200;
  const times: number[][] = list.map(() => []);
  for (const c of list) for (let i = 0; i < 20; i++) c.run(); // warm-up / JIT
  for (let r = 0; r < rounds; r++) {
    list.forEach((c, idx) => {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) c.run();
      (times[idx] as number[]).push((performance.now() - t0) / batch);
    });
  }
  const results: RecordBenchResult[] = list.map((c, idx) => {
    const m = median(times[idx] as number[]);
    return { name: c.name, median_ms: Number(m.toFixed(4)), samples: rounds, mb_per_s: Number(((c.bytes ?? RECORD) / 1e6 / (m / 1e3)).toFixed(1)) };
  });
  // Ratios are medians of per-round paired ratios: on a shared machine, load changes between
  // rounds cancel out because both cases of a pair ran back to back.
  const idx = (name: string): number[] => times[list.findIndex((c) => c.name === name)] ?? [];
  const ratio = (raw: string, ours: string): number => {
    const a = idx(raw);
    const b = idx(ours);
    return Number(median(a.map((x, i) => x / (b[i] ?? Number.NaN))).toFixed(3));
  };
  const ratios = {
    record_write_noble_vs_raw_noble: ratio('raw noble AES-128-GCM seal 16KiB', 'record layer write (noble) 16KiB'),
    record_read_noble_vs_raw_noble: ratio('raw noble AES-128-GCM open 16KiB', 'record layer read (noble) 16KiB'),
    record_write_node_vs_raw_node: ratio('raw node:crypto AES-128-GCM seal 16KiB', 'record layer write (node) 16KiB'),
    record_read_node_vs_raw_node: ratio('raw node:crypto AES-128-GCM open 16KiB', 'record layer read (node) 16KiB'),
    record_write_node_vs_record_write_noble: ratio('record layer write (noble) 16KiB', 'record layer write (node) 16KiB'),
  };
  if (opts.json) {
    console.log(JSON.stringify({ results, ratios }));
  } else {
    console.log('record layer, 16 KiB application-data records (64 KiB rows: one write of 4 records), AES-128-GCM');
    for (const r of results) console.log(`  ${r.name.padEnd(42)} ${r.median_ms.toFixed(4).padStart(9)} ms  ${r.mb_per_s.toFixed(1).padStart(8)} MB/s`);
    console.log('ratios (≥ 1 means as fast as the baseline; target noble write/read ≥ 0.90):');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(42)} ${v.toFixed(3)}`);
  }
  return { results, ratios };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\0')) {
  await runRecordBench({ json: process.argv.includes('--json') });
}
