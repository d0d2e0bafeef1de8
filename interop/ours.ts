/**
 * The milagro-ts side of the interop matrix, through the public node:tls-shaped API
 * (src/index.ts), exactly as an application would use it.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from '../src/index.ts';
import type { CaseContext, GroupName, Observed, PeerAdapter, PeerServer } from './peers.ts';

function groupOf(s: TLSSocket): GroupName | undefined {
  const info = s.getEphemeralKeyInfo();
  if (info === null || !('name' in info)) return undefined;
  switch (info.name) {
    case 'X25519':
      return 'X25519';
    case 'prime256v1':
      return 'P-256';
    case 'secp384r1':
      return 'P-384';
    default:
      return undefined;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** `provider`: which AEAD provider our side uses ('noble' default, 'node'). */
export function ours(provider: 'noble' | 'node' = 'noble'): PeerAdapter {
  return {
    name: 'milagro-ts',
    startServer(ctx: CaseContext): Promise<PeerServer> {
      return new Promise((resolveStart, rejectStart) => {
        let settle: (o: Observed) => void = () => {};
        const done = new Promise<Observed>((r) => {
          settle = r;
        });
        const server = createServer({
          key: readFileSync(ctx.keyFile),
          cert: readFileSync(ctx.certFile),
          ...(ctx.forced ? { ciphers: ctx.suite.opensslName, ecdhCurve: ctx.groupList.join(':') } : {}),
          cryptoProvider: provider,
          handshakeTimeout: ctx.timeoutMs,
        });
        server.on('tlsClientError', (err: Error) => settle({ error: `tlsClientError: ${describe(err)}` }));
        server.on('secureConnection', (s: TLSSocket) => {
          const suite = s.handshakeInfo?.suite;
          const group = groupOf(s);
          const version = s.getProtocol() ?? undefined;
          let buf = '';
          let answered = false;
          s.setEncoding('utf8');
          s.on('data', (d: string) => {
            buf += d;
            const nl = buf.indexOf('\n');
            if (nl >= 0 && !answered) {
              // Echo the first line, then close with close_notify.
              answered = true;
              s.end(`${buf.slice(0, nl)}\n`);
            }
          });
          s.on('error', (err) => settle({ suite, group, version, error: `server socket error: ${describe(err)}` }));
          s.on('close', () => settle({ suite, group, version, ...(buf.includes('\n') ? {} : { error: 'connection closed before a line arrived' }) }));
        });
        server.on('error', rejectStart);
        server.listen(0, '127.0.0.1', () => {
          const port = (server.address() as AddressInfo).port;
          const timer = setTimeout(() => settle({ error: 'no connection finished in time' }), ctx.timeoutMs);
          resolveStart({
            port,
            reply: (line) => line,
            async finish() {
              const o = await done;
              clearTimeout(timer);
              server.close();
              return o;
            },
            stop: () => {
              clearTimeout(timer);
              server.close();
            },
          });
        });
      });
    },
    runClient(ctx: CaseContext, port: number, line: string, expectedReply: string): Promise<Observed> {
      return new Promise((resolveRun) => {
        let finished = false;
        let suiteSeen: Observed['suite'];
        let groupSeen: GroupName | undefined;
        let versionSeen: string | undefined;
        let buf = '';
        /** null: no reply yet; undefined: the expected reply arrived; string: what was wrong. */
        let replyError: string | undefined | null = null;
        const finish = (o: Observed): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          s.destroy();
          resolveRun({ suite: suiteSeen, group: groupSeen, version: versionSeen, ...o });
        };
        const timer = setTimeout(() => finish({ gotReply: false, error: `timeout after ${ctx.timeoutMs} ms` }), ctx.timeoutMs);
        const s = connect({
          host: '127.0.0.1',
          port,
          servername: ctx.servername,
          ca: readFileSync(ctx.caFile),
          ...(ctx.forced ? { ciphers: ctx.suite.opensslName, ecdhCurve: ctx.groupList.join(':') } : {}),
          cryptoProvider: provider,
          handshakeTimeout: ctx.timeoutMs,
        });
        s.on('secureConnect', () => {
          suiteSeen = s.handshakeInfo?.suite;
          groupSeen = groupOf(s);
          versionSeen = s.getProtocol() ?? undefined;
          if (!s.authorized) {
            finish({ gotReply: false, error: `server not authorized: ${String(s.authorizationError)}` });
            return;
          }
          s.write(`${line}\n`);
        });
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          buf += d;
          const nl = buf.indexOf('\n');
          if (nl >= 0) {
            const got = buf.slice(0, nl);
            replyError = got === expectedReply ? undefined : `unexpected reply ${JSON.stringify(got)}`;
            // Close cleanly (close_notify) and let the peer finish before reporting.
            s.end();
          }
        });
        s.on('error', (err) => finish({ gotReply: false, error: `client error: ${describe(err)}` }));
        s.on('close', () => {
          if (replyError === null) finish({ gotReply: false, error: 'connection closed before the reply' });
          else finish({ gotReply: replyError === undefined, ...(replyError !== undefined ? { error: replyError } : {}) });
        });
      });
    },
  };
}
