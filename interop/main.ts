/**
 * `npm run interop`: the interop matrix (issue 3 item 9). For every peer (OpenSSL, GnuTLS, our
 * mbedTLS 2.28 peer) × suite (ECDHE-ECDSA with AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) ×
 * group (X25519, P-256, P-384) × role (our client ↔ their server, their client ↔ our server),
 * one fresh loopback connection: application data must round-trip and both sides must report the
 * expected suite (and group, where the peer reports it). Ends with "N passed, M failed".
 *
 * Plus one "defaults" case per peer and role: nothing forced, so OpenSSL and GnuTLS offer TLS 1.3
 * as well, and both sides must settle on TLS 1.2 with one of our suites.
 *
 * Options: --no-defaults  --peers openssl,gnutls,mbedtls  --suites aes128,aes256,chacha  --groups X25519,P-256,P-384
 *          --roles client,server  --provider noble|node  --concurrency 2  --timeout 15000  --verbose
 *          --ours <peer>  (harness self-check: use that peer in place of milagro-ts)
 *          --milagro-only (skip the matrix; run only the milagro-tls adapter, interop/milagro-tls.ts)
 *          --features rsa-aes128,resume-ticket,...  --no-features
 *
 * Then the issue 4 feature cases (interop/features.ts): ECDHE-RSA suites, resumption by ticket
 * and by session ID, ALPN, mutual TLS with ECDSA and RSA client certificates, max_fragment_length,
 * per peer and role.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Suites, type CipherSuite } from '../src/suites.ts';
import { externalPeers, GROUPS, type CaseContext, type GroupName, type Observed, type PeerAdapter } from './peers.ts';

const fixtures = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'certs');

const SUITES: readonly { readonly key: string; readonly suite: CipherSuite }[] = [
  { key: 'aes128', suite: Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 },
  { key: 'aes256', suite: Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 },
  { key: 'chacha', suite: Suites.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 },
];

type Role = 'client' | 'server'; // our role

interface Case {
  /** false: the "defaults" case (no suite/group/version forced on either side). */
  readonly forced: boolean;
  readonly peer: PeerAdapter;
  readonly role: Role;
  readonly suite: CipherSuite;
  readonly group: GroupName;
}

interface Outcome {
  readonly c: Case;
  readonly ok: boolean;
  readonly ms: number;
  readonly problems: readonly string[];
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

function contextFor(c: Case, timeoutMs: number): CaseContext {
  const leaf = c.group === 'P-384' ? 'server-ec384' : 'server-ec256';
  return {
    forced: c.forced,
    suite: c.suite,
    group: c.group,
    groupList: c.group === 'X25519' ? ['X25519', 'P-256'] : [c.group],
    certFile: resolve(fixtures, `${leaf}.pem`),
    keyFile: resolve(fixtures, `${leaf}.key`),
    caFile: resolve(fixtures, 'ca-ec.pem'),
    servername: 'localhost',
    timeoutMs,
  };
}

function check(side: string, o: Observed, c: Case, problems: string[]): void {
  if (o.error !== undefined) problems.push(`${side}: ${o.error}`);
  if (o.version !== undefined && o.version !== 'TLSv1.2') problems.push(`${side}: negotiated ${o.version}, expected TLSv1.2`);
  if (c.forced) {
    if (o.suite !== undefined && o.suite.id !== c.suite.id) problems.push(`${side}: negotiated ${o.suite.opensslName}, expected ${c.suite.opensslName}`);
    if (o.group !== undefined && o.group !== c.group) problems.push(`${side}: negotiated group ${o.group}, expected ${c.group}`);
  } else if (o.suite !== undefined && !SUITES.some((s) => s.suite.id === o.suite?.id)) {
    problems.push(`${side}: negotiated ${o.suite.opensslName}, which milagro-ts does not implement`);
  }
}

async function runCase(c: Case, ours: PeerAdapter, timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  const ctx = contextFor(c, timeoutMs);
  const [server, client] = c.role === 'client' ? [c.peer, ours] : [ours, c.peer];
  const line = `milagro-ts interop ${c.peer.name} ${c.forced ? `${c.suite.opensslName} ${c.group}` : 'defaults'} ${randomBytes(6).toString('hex')}`;
  const problems: string[] = [];
  let srv;
  try {
    srv = await server.startServer(ctx);
  } catch (e) {
    return { c, ok: false, ms: performance.now() - t0, problems: [`${server.name} server did not start: ${(e as Error).message}`] };
  }
  try {
    const co = await client.runClient(ctx, srv.port, line, srv.reply(line));
    const so = await srv.finish();
    check(`${client.name} client`, co, c, problems);
    if (co.gotReply !== true && co.error === undefined) problems.push(`${client.name} client: reply did not arrive`);
    if (co.suite === undefined) problems.push(`${client.name} client: did not report a suite`);
    check(`${server.name} server`, so, c, problems);
    if (co.suite !== undefined && so.suite !== undefined && co.suite.id !== so.suite.id) {
      problems.push(`client reports ${co.suite.opensslName} but server reports ${so.suite.opensslName}`);
    }
  } catch (e) {
    problems.push(`harness: ${(e as Error).stack ?? String(e)}`);
  } finally {
    srv.stop();
  }
  return { c, ok: problems.length === 0, ms: performance.now() - t0, problems };
}

async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>, onDone: (r: R) => void): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const item = items[i];
      if (item === undefined) return;
      const r = await fn(item);
      out[i] = r;
      onDone(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
  return out;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function printMatrix(outcomes: readonly Outcome[], peers: readonly PeerAdapter[], groups: readonly GroupName[], suites: readonly CipherSuite[], roles: readonly Role[], oursName: string): void {
  const head = [pad('peer', 9), pad('milagro-ts as', 14), pad('suite', 31), ...groups.map((g) => pad(g, 8))].join(' ');
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const p of peers) {
    for (const role of roles) {
      const d = outcomes.find((x) => !x.c.forced && x.c.peer === p && x.c.role === role);
      if (d !== undefined) console.log([pad(p.name, 9), pad(role, 14), pad('(peer defaults)', 31), pad(d.ok ? 'ok' : 'FAIL', 8)].join(' '));
      for (const s of suites) {
        const cells = groups.map((g) => {
          const o = outcomes.find((x) => x.c.forced && x.c.peer === p && x.c.role === role && x.c.suite === s && x.c.group === g);
          return pad(o === undefined ? '-' : o.ok ? 'ok' : 'FAIL', 8);
        });
        console.log([pad(p.name, 9), pad(`${role === 'client' ? 'client' : 'server'}`, 14), pad(s.opensslName, 31), ...cells].join(' '));
      }
    }
  }
  if (oursName !== 'milagro-ts') console.log(`(self-check mode: "${oursName}" stood in for milagro-ts)`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string' },
      suites: { type: 'string' },
      groups: { type: 'string' },
      roles: { type: 'string' },
      provider: { type: 'string', default: 'noble' },
      concurrency: { type: 'string', default: '2' },
      timeout: { type: 'string', default: '15000' },
      ours: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'no-defaults': { type: 'boolean', default: false },
      'milagro-only': { type: 'boolean', default: false },
      features: { type: 'string' },
      'no-features': { type: 'boolean', default: false },
    },
  });
  const pick = <T extends { readonly name: string }>(all: readonly T[], names: string[] | undefined, what: string): T[] => {
    if (names === undefined) return [...all];
    return names.map((n) => {
      const f = all.find((x) => x.name === n);
      if (f === undefined) throw new Error(`unknown ${what} "${n}"; known: ${all.map((x) => x.name).join(', ')}`);
      return f;
    });
  };
  const peers = pick(externalPeers, list(values.peers), 'peer');
  const suiteKeys = list(values.suites);
  const suites = (suiteKeys === undefined ? SUITES : SUITES.filter((s) => suiteKeys.includes(s.key))).map((s) => s.suite);
  const groupNames = list(values.groups);
  const groups = groupNames === undefined ? [...GROUPS] : GROUPS.filter((g) => groupNames.includes(g));
  const roleNames = list(values.roles);
  const roles: Role[] = roleNames === undefined ? ['client', 'server'] : (['client', 'server'] as const).filter((r) => roleNames.includes(r));
  const timeoutMs = Number(values.timeout);
  const provider = values.provider === 'node' ? 'node' : 'noble';

  if (peers.some((p) => p.name === 'mbedtls') || values.ours === 'mbedtls') {
    execFileSync(resolve(import.meta.dirname, 'build.sh'), { stdio: 'inherit' });
  }
  let oursAdapter: PeerAdapter;
  if (values.ours !== undefined) {
    oursAdapter = pick(externalPeers, [values.ours], 'peer')[0] as PeerAdapter;
  } else {
    // Imported lazily so the harness self-check works even while the engine is being built.
    const { ours } = await import('./ours.ts');
    oursAdapter = ours(provider);
  }

  const cases: Case[] = [];
  for (const peer of values['milagro-only'] ? [] : peers) {
    for (const role of roles) {
      if (!values['no-defaults']) cases.push({ forced: false, peer, role, suite: Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, group: 'X25519' });
      for (const suite of suites) for (const group of groups) cases.push({ forced: true, peer, role, suite, group });
    }
  }

  console.log(`interop: ${cases.length} cases, milagro-ts AEAD provider: ${provider}, concurrency ${values.concurrency}`);
  const t0 = performance.now();
  const outcomes = await pool(cases, Number(values.concurrency), (c) => runCase(c, oursAdapter, timeoutMs), (o) => {
    if (values.verbose) console.log(`${o.ok ? 'ok  ' : 'FAIL'} ${o.c.peer.name} ours=${o.c.role} ${o.c.forced ? `${o.c.suite.opensslName} ${o.c.group}` : 'defaults'} (${o.ms.toFixed(0)} ms)`);
  });
  console.log('');
  printMatrix(outcomes, peers, groups, suites, roles, oursAdapter.name);
  const failed = outcomes.filter((o) => !o.ok);
  for (const f of failed) {
    console.log(`\nFAIL ${f.c.peer.name}, milagro-ts as ${f.c.role}, ${f.c.forced ? `${f.c.suite.opensslName}, ${f.c.group}` : 'peer defaults'}:`);
    for (const p of f.problems) console.log(`  ${p.replace(/\n/g, '\n    ')}`);
  }
  // Issue 4 feature cases.
  const { FEATURES, excluded, runFeatureCase } = await import('./features.ts');
  const featureKeys = list(values.features);
  const feats = values['no-features'] || values['milagro-only'] || values.ours !== undefined ? [] : FEATURES.filter((f) => featureKeys === undefined || featureKeys.includes(f.key));
  const featureCases = peers.flatMap((p) => roles.flatMap((role) => feats.map((f) => ({ peer: p.name, role, f }))));
  const runnable = featureCases.filter((c) => excluded(c.peer, c.role, c.f) === undefined);
  const featureOutcomes = await pool(runnable, Number(values.concurrency), (c) => runFeatureCase(c.peer, c.role, c.f, timeoutMs, provider), (o) => {
    if (values.verbose) console.log(`${o.ok ? 'ok  ' : 'FAIL'} ${o.peer} ours=${o.role} ${o.feature.key} (${o.ms.toFixed(0)} ms)`);
  });
  if (feats.length > 0) {
    console.log('');
    const head = [pad('peer', 9), pad('milagro-ts as', 14), ...feats.map((f) => pad(f.key, 14))].join(' ');
    console.log(head);
    console.log('-'.repeat(head.length));
    for (const p of peers) {
      for (const role of roles) {
        const cells = feats.map((f) => {
          if (excluded(p.name, role, f) !== undefined) return pad('n/a*', 14);
          const o = featureOutcomes.find((x) => x.peer === p.name && x.role === role && x.feature === f);
          return pad(o === undefined ? '-' : o.ok ? 'ok' : 'FAIL', 14);
        });
        console.log([pad(p.name, 9), pad(role, 14), ...cells].join(' '));
      }
    }
    for (const c of featureCases) {
      const why = excluded(c.peer, c.role, c.f);
      if (why !== undefined) console.log(`* n/a: ${c.peer}, milagro-ts as ${c.role}, ${c.f.key}: ${why}`);
    }
  }
  const featureFailed = featureOutcomes.filter((o) => !o.ok);
  for (const f of featureFailed) {
    console.log(`\nFAIL ${f.peer}, milagro-ts as ${f.role}, ${f.feature.key}:`);
    for (const p of f.problems) console.log(`  ${p.replace(/\n/g, '\n    ').slice(0, 3000)}`);
  }

  // Live milagro-tls programs (issue 6): only with MILAGRO_TLS_PROGRAMS, otherwise a "skipped" line.
  const { runMilagroTls } = await import('./milagro-tls.ts');
  const milagro = await runMilagroTls({ verbose: values.verbose });
  const milagroFailed = milagro.outcomes.filter((o) => !o.ok).length;
  const passed = outcomes.length - failed.length + milagro.outcomes.length - milagroFailed + featureOutcomes.length - featureFailed.length;
  const failedTotal = failed.length + milagroFailed + featureFailed.length;
  console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`${passed} passed, ${failedTotal} failed`);
  return failedTotal > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
