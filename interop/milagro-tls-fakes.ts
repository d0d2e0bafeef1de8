/**
 * Stand-ins for the milagro-tls demo programs, built on milagro-ts itself, so the live adapter
 * (milagro-tls.ts) can be checked without the C build: same names, same `key=value` arguments,
 * same key files in the working directory, same demo lines (spec §8.2).
 *
 *   npx tsx interop/milagro-tls-fakes.ts --make DIR     # writes DIR/{tls_client,tls_server,TA_cs,TA_p2p}
 *   MILAGRO_TLS_PROGRAMS=DIR npx tsx interop/milagro-tls.ts
 *
 * This checks the harness, not interoperability: only the real programs prove that.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, createServer, type TLSSocket } from '../src/index.ts';
import { bytesToHex } from '../src/codec/bytes.ts';
import { clientSecretShare, dayOf, hashId, masterSecretShare, serverSecretShare, timePermitShare } from '../src/crypto/mpin.ts';
import { systemRandom } from '../src/providers.ts';
import { receiverKeyShare, senderKeyShare } from '../src/crypto/wcc.ts';

const CLIENT_LINE = "   CLIENT: Hi, I'm client@miracl.com can you hear me???\r\n\r\n";
const SERVER_LINE = '\n   SERVER: Hi Client, yes very well!!!\n\n';
const CS = 'MILAGRO-CS-AES128-GCM-SHA256';
const P2P = 'MILAGRO-P2P-AES128-GCM-SHA256';
/** `force_ciphersuite=TLS-MILAGRO-P2P-WITH-AES-128-GCM-SHA256` selects MILAGRO_P2P, as in the originals. */
const isP2p = (a: Map<string, string>): boolean => a.get('force_ciphersuite') === 'TLS-MILAGRO-P2P-WITH-AES-128-GCM-SHA256';
const anyIdentity = (): boolean => true; // the originals check no peer identity (spec §10 item 18)

function args(argv: readonly string[]): Map<string, string> {
  return new Map(argv.map((a) => a.split('=', 2) as [string, string]));
}
const key = async (name: string): Promise<string> => (await readFile(name, 'utf8')).split('\n', 1)[0] ?? '';

async function main(): Promise<number> {
  const [prog, ...rest] = process.argv.slice(2);
  const a = args(rest);
  switch (prog) {
    case '--make': {
      const dir = resolve(rest[0] ?? 'milagro-tls-fakes');
      await mkdir(dir, { recursive: true });
      const self = resolve(import.meta.filename);
      // One process per program (no tsx CLI wrapper process), so killing it closes its pipes.
      const tsx = resolve(import.meta.dirname, '..', 'node_modules', 'tsx', 'dist');
      const node = process.execPath;
      const loader = `--require "${join(tsx, 'preflight.cjs')}" --import "${pathToFileURL(join(tsx, 'loader.mjs')).href}"`;
      for (const p of ['tls_client', 'tls_server', 'TA_cs', 'TA_p2p']) {
        await writeFile(join(dir, p), `#!/bin/sh\nexec "${node}" ${loader} "${self}" ${p} "$@"\n`);
        await chmod(join(dir, p), 0o755);
      }
      console.log(dir);
      return 0;
    }
    case 'TA_cs': {
      const ms = masterSecretShare(systemRandom);
      const hid = hashId(new TextEncoder().encode('client@miracl.com'));
      await writeFile('CSServerKey', bytesToHex(serverSecretShare(ms)));
      await writeFile('CSClientKey', bytesToHex(clientSecretShare(ms, hid)));
      await writeFile('CSTimePermit', bytesToHex(timePermitShare(ms, hid, dayOf(Date.now()))));
      return 0;
    }
    case 'TA_p2p': {
      const ms = masterSecretShare(systemRandom);
      const hid = (id: string): Uint8Array => hashId(new TextEncoder().encode(id));
      await writeFile('P2PServerKey', bytesToHex(senderKeyShare(ms, hid('server.miracl.com'))));
      await writeFile('P2PClientKey', bytesToHex(receiverKeyShare(ms, hid('client@miracl.com'))));
      return 0;
    }
    case 'tls_server': {
      const port = Number(a.get('server_port') ?? 4444);
      const options = isP2p(a)
        ? { ciphers: P2P, milagroP2p: { identity: 'server.miracl.com', senderKey: await key('P2PServerKey') } }
        : { ciphers: CS, milagro: { serverSecret: await key('CSServerKey'), timePermits: true } };
      const server = createServer(options, (s: TLSSocket) => {
        let got = '';
        s.on('error', () => undefined);
        s.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes(CLIENT_LINE)) s.end(SERVER_LINE);
        });
      });
      server.listen(port, '127.0.0.1');
      console.log(`  . Waiting for a remote connection on ${port} ...`);
      await new Promise(() => undefined); // loops until killed, like the original
      return 0;
    }
    case 'tls_client': {
      const where = { host: a.get('server_addr') ?? 'localhost', port: Number(a.get('server_port') ?? 4444) };
      const s = isP2p(a)
        ? connect({ ...where, ciphers: P2P, milagroP2p: { identity: 'client@miracl.com', receiverKey: await key('P2PClientKey'), serverIdentity: anyIdentity } })
        : connect({
            ...where,
            ciphers: CS,
            milagro: { identity: 'client@miracl.com', token: await key('CSClientKey'), pin: 0, timePermit: await key('CSTimePermit') },
          });
      s.once('secureConnect', () => s.write(CLIENT_LINE));
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      process.stdout.write(Buffer.concat(chunks).toString());
      return Buffer.concat(chunks).toString() === SERVER_LINE ? 0 : 1;
    }
    default:
      console.error('usage: milagro-tls-fakes.ts --make DIR | TA_cs | TA_p2p | tls_server server_port=N | tls_client server_addr=A server_port=N');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
