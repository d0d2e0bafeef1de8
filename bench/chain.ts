/**
 * Certificate path building under attack (issue 11 §4): a requestCert server receives client
 * Certificate messages of a leaf plus 500 look-alike intermediates (same names, distinct serials
 * and keys, broken signatures; ~150 KiB), three such connections at once, while a legitimate
 * client with a two-certificate chain connects. Measured: time from connect to the
 * bad_certificate alert for each monster connection (node:tls clients, a whole handshake up to
 * the refusal), our legitimate client's handshake time, and the longest event-loop stall.
 * Targets: refusal < 50 ms, legitimate handshake < 500 ms.
 *
 *   npx tsx bench/chain.ts [--json]      (or: npm run bench -- chain)
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as nodeTls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { connect, createServer } from '../src/index.ts';
import { ecKey, forgeCertificate, keyPem, monsterChain, pemOf } from '../test/x509/forge.ts';

export interface ChainBenchReport {
  readonly refusal_ms: readonly number[];
  readonly legitimate_ms: number;
  readonly max_event_loop_stall_ms: number;
  readonly load_average: number;
  readonly targets: Readonly<Record<string, { readonly value: number; readonly target: string; readonly met: boolean }>>;
}

function time(start: () => import('../src/index.ts').TLSSocket | nodeTls.TLSSocket, until: 'secureConnect' | 'error'): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const s = start();
    s.once('secureConnect', () => {
      const t = performance.now() - t0;
      s.destroy();
      if (until === 'secureConnect') res(t);
      else rej(new Error('monster chain was accepted'));
    });
    s.once('error', (e) => {
      const t = performance.now() - t0;
      s.destroy();
      if (until === 'error' && /bad_certificate|bad certificate/i.test(e.message)) res(t);
      else rej(e);
    });
  });
}

export async function runChainBench(opts: { json: boolean }): Promise<ChainBenchReport> {
  const anchor = ecKey();
  const anchorDer = forgeCertificate({ subject: 'Trusted CA', issuer: 'Trusted CA', publicKey: anchor.publicKey, signer: anchor.privateKey, serial: 1n, ca: true });
  const caPem = pemOf(anchorDer);
  const serverKeys = ecKey();
  const serverCert = forgeCertificate({ subject: 'localhost', issuer: 'Trusted CA', publicKey: serverKeys.publicKey, signer: anchor.privateKey, serial: 2n, ca: false, dnsNames: ['localhost'] });
  const inter = ecKey();
  const leafKeys = ecKey();
  const interDer = forgeCertificate({ subject: 'Real Intermediate', issuer: 'Trusted CA', publicKey: inter.publicKey, signer: anchor.privateKey, serial: 3n, ca: true });
  const leafDer = forgeCertificate({ subject: 'client', issuer: 'Real Intermediate', publicKey: leafKeys.publicKey, signer: inter.privateKey, serial: 4n, ca: false, dnsNames: ['localhost'] });
  const monster = monsterChain(500, { trustedName: 'Trusted CA' });
  const monsterPem = [monster.leaf, ...monster.intermediates].map((d) => pemOf(d)).join('');

  const server = createServer({ key: keyPem(serverKeys.privateKey), cert: pemOf(serverCert), ca: caPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    s.on('error', () => undefined);
    s.end();
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const base = { port, host: '127.0.0.1', ca: caPem, servername: 'localhost' };
  const legit = (): Promise<number> => time(() => connect({ ...base, cert: pemOf(leafDer) + pemOf(interDer), key: keyPem(leafKeys.privateKey) }), 'secureConnect');
  // The attackers are node:tls clients (OpenSSL loads the 500-certificate chain in C), so their own
  // work does not land on this event loop: what is measured is the server's.
  const monsterKey = keyPem(monster.leafKey);
  const evilContext = nodeTls.createSecureContext({ cert: monsterPem, key: monsterKey, ca: caPem, maxVersion: 'TLSv1.2' });
  const evil = (): Promise<number> => time(() => nodeTls.connect({ port, host: '127.0.0.1', servername: 'localhost', secureContext: evilContext, maxVersion: 'TLSv1.2' }), 'error');
  try {
    for (let i = 0; i < 3; i++) await legit(); // warm-up (JIT, signature tables)
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const [refusals, legitimate] = await Promise.all([Promise.all([evil(), evil(), evil()]), legit()]);
    h.disable();
    const stall = h.max / 1e6;
    const worst = Math.max(...refusals);
    const report: ChainBenchReport = {
      refusal_ms: refusals.map((t) => Number(t.toFixed(1))),
      legitimate_ms: Number(legitimate.toFixed(1)),
      max_event_loop_stall_ms: Number(stall.toFixed(1)),
      load_average: Number((loadavg()[0] ?? 0).toFixed(2)),
      targets: {
        'monster chain refused with bad_certificate (ms, worst of 3)': { value: Number(worst.toFixed(1)), target: '< 50', met: worst < 50 },
        'legitimate handshake meanwhile (ms)': { value: Number(legitimate.toFixed(1)), target: '< 500', met: legitimate < 500 },
      },
    };
    if (opts.json) {
      console.log(JSON.stringify(report));
    } else {
      console.log('Certificate path building under attack (3 connections with 500 look-alike intermediates, requestCert server)');
      console.log(`  refused after           ${report.refusal_ms.join(' / ')} ms`);
      console.log(`  legitimate handshake    ${report.legitimate_ms} ms`);
      console.log(`  longest event-loop stall ${report.max_event_loop_stall_ms} ms`);
      console.log(`  load average (1 min) ${report.load_average} on ${availableParallelism()} cores`);
      console.log('targets:');
      for (const [k, t] of Object.entries(report.targets)) console.log(`  ${k.padEnd(60)} ${String(t.value).padStart(8)}  target ${t.target}  ${t.met ? 'met' : 'NOT met'}`);
    }
    return report;
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runChainBench({ json: process.argv.includes('--json') });
}
