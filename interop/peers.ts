/**
 * Interop peer adapters (shaped like s2n's providers, style.md §11): each peer can run a
 * one-shot server and a one-shot client for a case, forcing exactly one suite and one group, and
 * reports what it observed (suite, group, the line it got back).
 */
import { resolve } from 'node:path';
import { suiteByName, type CipherSuite } from '../src/suites.ts';
import { PeerProcess, freePort } from './process.ts';

export type GroupName = 'X25519' | 'P-256' | 'P-384';
export const GROUPS: readonly GroupName[] = ['X25519', 'P-256', 'P-384'];

export interface CaseContext {
  /**
   * false: "defaults" case — every side runs with its own default configuration (versions,
   * suites, groups; OpenSSL and GnuTLS then offer TLS 1.3 too), and must still agree on TLS 1.2.
   */
  readonly forced: boolean;
  readonly suite: CipherSuite;
  readonly group: GroupName;
  /**
   * Groups each side offers/accepts, expected group first. RFC 8422 §5.1 (and RFC 4492 before
   * it): in TLS 1.2 supported_groups also constrains the curve of the server's ECDSA key, so an
   * X25519 case must still list P-256 for the P-256 certificate; the check that X25519 was the
   * one negotiated is done on whichever side reports it.
   */
  readonly groupList: readonly GroupName[];
  /** Server certificate and key (P-256 leaf, or the P-384 leaf for P-384 cases). */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Name the server certificate is issued for. */
  readonly servername: string;
  readonly timeoutMs: number;
}

/** What one side saw. Undefined fields mean "this peer does not report it". */
export interface Observed {
  readonly suite?: CipherSuite | undefined;
  readonly group?: GroupName | undefined;
  /** Protocol version as the peer names it, normalised to 'TLSv1.2' style. */
  readonly version?: string | undefined;
  /** Client side: whether the expected reply came back. */
  readonly gotReply?: boolean;
  readonly error?: string | undefined;
  readonly log?: string;
}

export interface PeerServer {
  readonly port: number;
  /** What this server sends back for a line (echo, or OpenSSL's -rev reversal). */
  reply(line: string): string;
  /** Waits for the single connection to finish, then stops the server. */
  finish(): Promise<Observed>;
  stop(): void;
}

export interface PeerAdapter {
  readonly name: string;
  startServer(ctx: CaseContext): Promise<PeerServer>;
  runClient(ctx: CaseContext, port: number, line: string, expectedReply: string): Promise<Observed>;
}

// ---- name mappings ----------------------------------------------------------------------

function opensslGroups(gs: readonly GroupName[]): string {
  return gs.join(':'); // OpenSSL 3 accepts X25519, P-256, P-384
}

function gnutlsGroup(g: GroupName): string {
  switch (g) {
    case 'X25519':
      return 'GROUP-X25519';
    case 'P-256':
      return 'GROUP-SECP256R1';
    case 'P-384':
      return 'GROUP-SECP384R1';
    default: {
      const never: never = g;
      return never;
    }
  }
}

function mbedtlsGroups(gs: readonly GroupName[]): string {
  return gs.map(mbedtlsGroup).join(',');
}

function mbedtlsGroup(g: GroupName): string {
  switch (g) {
    case 'X25519':
      return 'x25519';
    case 'P-256':
      return 'secp256r1';
    case 'P-384':
      return 'secp384r1';
    default: {
      const never: never = g;
      return never;
    }
  }
}

export function gnutlsCipher(s: CipherSuite): string {
  switch (s.aead.name) {
    case 'AES-128-GCM':
      return 'AES-128-GCM';
    case 'AES-256-GCM':
      return 'AES-256-GCM';
    case 'CHACHA20-POLY1305':
      return 'CHACHA20-POLY1305';
    default: {
      const never: never = s.aead.name;
      return never;
    }
  }
}

function gnutlsPriority(ctx: CaseContext): string {
  if (!ctx.forced) return 'NORMAL';
  const kx = ctx.suite.kex === 'ECDHE_RSA' ? 'ECDHE-RSA' : 'ECDHE-ECDSA';
  return `NONE:+VERS-TLS1.2:+${kx}:+${gnutlsCipher(ctx.suite)}:+AEAD:+SIGN-ALL:+COMP-NULL:+CTYPE-X509:${ctx.groupList.map((g) => `+${gnutlsGroup(g)}`).join(':')}`;
}

/** "(TLS1.2-X.509)-(ECDHE-X25519)-(ECDSA-SHA256)-(AES-128-GCM)" → suite and group. */
function parseGnutlsDescription(text: string): { suite?: CipherSuite | undefined; group?: GroupName | undefined; version?: string | undefined } {
  const v = text.match(/Description: \(TLS(1\.\d)/);
  const version = v !== null ? `TLSv${v[1] ?? ''}` : undefined;
  const m = text.match(/Description: \(TLS1\.2[^)]*\)-\(ECDHE-([A-Z0-9]+)\)-\((ECDSA|RSA[A-Z-]*)-[^)]*\)-\(([A-Z0-9-]+)\)/);
  if (m === null) return { version };
  const groupMap: Record<string, GroupName> = { X25519: 'X25519', SECP256R1: 'P-256', SECP384R1: 'P-384' };
  const kex = m[2] === 'ECDSA' ? 'ECDHE-ECDSA' : 'ECDHE-RSA';
  const cipher = (m[3] ?? '').replace('AES-128-GCM', 'AES128-GCM').replace('AES-256-GCM', 'AES256-GCM');
  const hash = cipher.startsWith('AES256') ? '-SHA384' : cipher.startsWith('AES128') ? '-SHA256' : '';
  return { suite: suiteByName(`${kex}-${cipher}${hash}`), group: groupMap[m[1] ?? ''], version };
}

/** OpenSSL "Server Temp Key: X25519, 253 bits" / "ECDH, prime256v1, 256 bits". */
function parseOpensslTempKey(text: string): GroupName | undefined {
  const m = text.match(/Server Temp Key: ([^\n]+)/);
  if (m === null) return undefined;
  const v = m[1] ?? '';
  if (v.startsWith('X25519')) return 'X25519';
  if (v.includes('prime256v1') || v.includes('P-256')) return 'P-256';
  if (v.includes('secp384r1') || v.includes('P-384')) return 'P-384';
  return undefined;
}

function exitText(p: PeerProcess, what: string): string {
  const e = p.exit;
  return `${what} exited with ${e === undefined ? 'no status' : e.signal ?? String(e.code)}\n${p.transcript()}`;
}

/** Stdin-driven clients: send the line, keep stdin open until the reply shows or the peer exits. */
export async function driveStdinClient(p: PeerProcess, line: string, expectedReply: string, timeoutMs: number): Promise<{ gotReply: boolean; error?: string }> {
  p.write(`${line}\n`);
  let error: string | undefined;
  try {
    await p.waitFor(new RegExp(`^${expectedReply.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), timeoutMs);
  } catch (e) {
    error = (e as Error).message;
  }
  p.endInput();
  const ex = await p.waitExit(Math.min(timeoutMs, 5000));
  if (ex.timedOut && error === undefined) error = 'client did not exit after the reply';
  return error === undefined ? { gotReply: true } : { gotReply: false, error };
}

// ---- OpenSSL -----------------------------------------------------------------------------

export const openssl: PeerAdapter = {
  name: 'openssl',
  async startServer(ctx) {
    const p = new PeerProcess('openssl', [
      's_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-rev', '-cert', ctx.certFile, '-key', ctx.keyFile,
      ...(ctx.forced ? ['-tls1_2', '-cipher', ctx.suite.opensslName, '-groups', opensslGroups(ctx.groupList)] : []),
    ]);
    const m = await p.waitFor(/ACCEPT [^\n]*:(\d+)/, ctx.timeoutMs).catch((e: Error) => {
      p.kill();
      throw new Error(`${e.message}\n${p.transcript()}`);
    });
    return {
      port: Number(m[1]),
      reply: (line) => [...line].reverse().join(''),
      async finish() {
        const ex = await p.waitExit(ctx.timeoutMs);
        const cs = p.stdout.match(/Ciphersuite: (\S+)/);
        return {
          suite: cs !== null ? suiteByName(cs[1] ?? '') : undefined,
          version: p.stdout.match(/Protocol version: (\S+)/)?.[1],
          ...(ex.timedOut ? { error: `openssl s_server did not finish\n${p.transcript()}` } : {}),
          log: p.transcript(),
        };
      },
      stop: () => p.kill(),
    };
  },
  async runClient(ctx, port, line, expectedReply) {
    const p = new PeerProcess('openssl', [
      's_client', '-connect', `127.0.0.1:${port}`, '-servername', ctx.servername,
      '-CAfile', ctx.caFile, '-verify_return_error', '-verify_hostname', ctx.servername, '-ign_eof',
      ...(ctx.forced ? ['-tls1_2', '-cipher', ctx.suite.opensslName, '-groups', opensslGroups(ctx.groupList)] : []),
    ]);
    const r = await driveStdinClient(p, line, expectedReply, ctx.timeoutMs);
    const cs = p.stdout.match(/Cipher is (\S+)/);
    const verified = /Verification: OK/.test(p.stdout) || /Verify return code: 0 \(ok\)/.test(p.stdout);
    const error = r.error ?? (verified ? undefined : 'certificate verification did not report OK');
    return {
      gotReply: r.gotReply,
      suite: cs !== null ? suiteByName(cs[1] ?? '') : undefined,
      group: parseOpensslTempKey(p.stdout),
      version: p.stdout.match(/New, (TLSv[\d.]+), Cipher/)?.[1],
      error: error === undefined ? undefined : `${error}\n${p.transcript()}`,
      log: p.transcript(),
    };
  },
};

// ---- GnuTLS ------------------------------------------------------------------------------

export const gnutls: PeerAdapter = {
  name: 'gnutls',
  async startServer(ctx) {
    // gnutls-serv cannot report an ephemeral port: take a free one and retry if it was stolen.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const p = new PeerProcess('gnutls-serv', [
        '--echo', '-p', String(port), '--x509certfile', ctx.certFile, '--x509keyfile', ctx.keyFile,
        '--priority', gnutlsPriority(ctx),
      ]);
      try {
        await p.waitFor(/listening on IPv4[^\n]*done/, ctx.timeoutMs);
      } catch (e) {
        p.kill();
        if (attempt < 2) continue;
        throw new Error(`${(e as Error).message}\n${p.transcript()}`);
      }
      return {
        port,
        reply: (line) => line,
        async finish() {
          // gnutls-serv serves forever: wait for the handshake description, then stop it.
          let error: string | undefined;
          try {
            await p.waitFor(/Description: [^\n]+/, ctx.timeoutMs);
          } catch (e) {
            error = `${(e as Error).message}\n${p.transcript()}`;
          }
          p.kill();
          await p.exited;
          return { ...parseGnutlsDescription(p.stdout), error, log: p.transcript() };
        },
        stop: () => p.kill(),
      };
    }
  },
  async runClient(ctx, port, line, expectedReply) {
    const p = new PeerProcess('gnutls-cli', [
      '127.0.0.1', '-p', String(port), '--sni-hostname', ctx.servername, '--verify-hostname', ctx.servername,
      '--x509cafile', ctx.caFile, '--priority', gnutlsPriority(ctx),
    ]);
    const r = await driveStdinClient(p, line, expectedReply, ctx.timeoutMs);
    const trusted = /certificate is trusted/.test(p.stdout + p.stderr);
    const error = r.error ?? (trusted ? undefined : 'gnutls-cli did not report a trusted certificate');
    return {
      gotReply: r.gotReply,
      ...parseGnutlsDescription(p.stdout + p.stderr),
      error: error === undefined ? undefined : `${error}\n${p.transcript()}`,
      log: p.transcript(),
    };
  },
};

// ---- mbedTLS 2.28 (interop/mbedtls-peer.c) -------------------------------------------------

export const mbedtlsPeerPath = resolve(import.meta.dirname, 'build', 'mbedtls-peer');

export const mbedtls: PeerAdapter = {
  name: 'mbedtls',
  async startServer(ctx) {
    const p = new PeerProcess(mbedtlsPeerPath, [
      'server', '--port', '0', '--cert', ctx.certFile, '--key', ctx.keyFile, '--timeout', String(ctx.timeoutMs),
      ...(ctx.forced ? ['--ciphersuite', ctx.suite.name, '--groups', mbedtlsGroups(ctx.groupList)] : []),
    ]);
    const m = await p.waitFor(/LISTENING (\d+)/, ctx.timeoutMs).catch((e: Error) => {
      p.kill();
      throw new Error(`${e.message}\n${p.transcript()}`);
    });
    return {
      port: Number(m[1]),
      reply: (line) => line,
      async finish() {
        const ex = await p.waitExit(ctx.timeoutMs);
        const cs = p.stdout.match(/CIPHERSUITE (\S+)/);
        const ok = !ex.timedOut && ex.code === 0;
        return {
          suite: cs !== null ? suiteByName(cs[1] ?? '') : undefined,
          version: p.stdout.match(/VERSION (\S+)/)?.[1],
          error: ok ? undefined : exitText(p, 'mbedtls-peer server'),
          log: p.transcript(),
        };
      },
      stop: () => p.kill(),
    };
  },
  async runClient(ctx, port, line, expectedReply) {
    const p = new PeerProcess(mbedtlsPeerPath, [
      'client', '--host', '127.0.0.1', '--port', String(port), '--servername', ctx.servername, '--ca', ctx.caFile,
      '--message', line, '--timeout', String(ctx.timeoutMs),
      ...(ctx.forced ? ['--ciphersuite', ctx.suite.name, '--groups', mbedtlsGroups(ctx.groupList)] : []),
    ]);
    const ex = await p.waitExit(ctx.timeoutMs + 2000);
    const cs = p.stdout.match(/CIPHERSUITE (\S+)/);
    const rec = p.stdout.match(/^RECEIVED (.*)$/m);
    const gotReply = rec !== null && rec[1] === expectedReply;
    const ok = !ex.timedOut && ex.code === 0 && gotReply;
    return {
      gotReply,
      suite: cs !== null ? suiteByName(cs[1] ?? '') : undefined,
      version: p.stdout.match(/VERSION (\S+)/)?.[1],
      error: ok ? undefined : exitText(p, 'mbedtls-peer client'),
      log: p.transcript(),
    };
  },
};

export const externalPeers: readonly PeerAdapter[] = [openssl, gnutls, mbedtls];
