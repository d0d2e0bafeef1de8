/**
 * Issue 11 §1: one client cannot take the server down. A server written like the README snippets
 * (`createServer(opts, (s) => s.pipe(s))`, no 'error' listener on accepted sockets) runs in a child
 * process (test/api/fixtures/readme-server.mjs, on the compiled package) in certificate, MILAGRO_CS and MILAGRO_P2P modes,
 * and node:tls runs the same snippet for comparison. Each client completes a handshake and then
 * sends a corrupted record or resets the TCP connection, or resets in the middle of the handshake;
 * afterwards the child must still be running and still echo for a good client, and failures
 * before the handshake completed must have reached 'tlsClientError' with the socket.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type TLSSocket } from '../../src/index.ts';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { issueCsKeys } from '../milagro/keys.ts';
import { loadRecording } from '../replay/recording.ts';
import { ca, sleep } from './helpers.ts';
import { ensureBuilt } from '../helpers/build.ts';

type Mode = 'cert' | 'cs' | 'p2p' | 'node';

const csKeys = issueCsKeys({ now: Date.now(), identity: 'carol@example.org', pin: 2468 });
const p2p = loadRecording('p2p_default');

class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly events: Array<Record<string, unknown>> = [];
  stderr = '';
  exit: number | string | null | undefined = undefined;
  #buf = '';

  constructor(mode: Mode) {
    const file = resolve(import.meta.dirname, 'fixtures', 'readme-server.mjs');
    ensureBuilt();
    this.proc = spawn(process.execPath, [file, mode], {
      stdio: 'pipe',
      env: {
        ...process.env,
        SERVER_SECRET: bytesToHex(csKeys.serverSecret),
        P2P_SENDER_KEY: p2p.key_files['P2PServerKey'] ?? '',
      },
    });
    this.proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.#buf += d;
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        this.events.push(JSON.parse(this.#buf.slice(0, i)) as Record<string, unknown>);
        this.#buf = this.#buf.slice(i + 1);
      }
    });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.proc.on('exit', (code, signal) => (this.exit = code ?? signal));
  }

  async port(): Promise<number> {
    for (let i = 0; i < 300; i++) {
      const p = this.events.find((e) => typeof e['port'] === 'number')?.['port'];
      if (typeof p === 'number') return p;
      if (this.exit !== undefined) break;
      await sleep(50);
    }
    throw new Error(`server child did not start: ${this.stderr}`);
  }

  /** Still running (no unhandled 'error' killed it). */
  alive(): boolean {
    return this.exit === undefined && this.proc.exitCode === null;
  }

  clientErrors(): Array<Record<string, unknown>> {
    return this.events.filter((e) => e['tlsClientError'] !== undefined);
  }
}

function client(mode: Mode, socket: Socket): TLSSocket {
  switch (mode) {
    case 'cs':
      return connect({ socket, milagro: { identity: csKeys.identity, token: csKeys.token, pin: csKeys.pin, timePermit: csKeys.timePermit } });
    case 'p2p':
      return connect({
        socket,
        milagroP2p: { identity: 'client@miracl.com', receiverKey: p2p.key_files['P2PClientKey'] ?? '', serverIdentity: 'server.miracl.com' },
      });
    default:
      return connect({ socket, servername: 'localhost', ca });
  }
}

/** Connect, complete the handshake, check one echo; the raw TCP socket stays reachable. */
async function established(mode: Mode, port: number): Promise<{ tls: TLSSocket; raw: Socket }> {
  const raw = netConnect({ port, host: '127.0.0.1' });
  const tls = client(mode, raw);
  tls.on('error', () => undefined);
  await once(tls, 'secureConnect');
  tls.write('ping');
  const [echo] = (await once(tls, 'data')) as [Buffer];
  expect(echo.toString()).toBe('ping');
  return { tls, raw };
}

/** An application_data record whose ciphertext and tag are garbage: bad_record_mac at the server. */
const corruptRecord = Buffer.concat([Buffer.from([23, 3, 3, 0, 40]), Buffer.alloc(40, 0x5a)]);

async function closed(s: Socket | TLSSocket): Promise<void> {
  if (!s.closed) await Promise.race([new Promise((r) => s.once('close', r)), sleep(2000)]);
}

describe.each<Mode>(['cert', 'cs', 'p2p', 'node'])('README-style server (%s) survives hostile clients', (mode) => {
  let child: Child;
  let port = 0;

  beforeAll(async () => {
    child = new Child(mode);
    port = await child.port();
  });
  afterAll(() => {
    child.proc.kill();
  });

  async function expectAlive(): Promise<void> {
    await sleep(100); // the child's unhandled 'error' (if any) is raised asynchronously
    expect(child.alive(), `server child died: ${child.stderr}`).toBe(true);
  }

  it('a corrupted record after the handshake destroys that socket only', async () => {
    const { tls, raw } = await established(mode, port);
    raw.write(corruptRecord);
    await closed(tls);
    await expectAlive();
  });

  it('a TCP reset after the handshake destroys that socket only', async () => {
    const { raw } = await established(mode, port);
    raw.resetAndDestroy();
    await expectAlive();
  });

  /** Start a handshake and reset the TCP connection when `when` resolves; expect one tlsClientError. */
  async function resetDuringHandshake(when: (raw: Socket) => Promise<unknown>): Promise<void> {
    const before = child.clientErrors().length;
    const raw = netConnect({ port, host: '127.0.0.1' });
    // Only the ClientHello goes out: the client's next flight is held back, so the server is
    // certainly still in its handshake when the reset arrives.
    const write = raw.write.bind(raw) as (b: Uint8Array) => boolean;
    let writes = 0;
    (raw as unknown as { write: (b: Uint8Array) => boolean }).write = (b) => (writes++ === 0 ? write(b) : true);
    const tls = client(mode, raw);
    tls.on('error', () => undefined);
    await when(raw);
    expect(tls.tlsState).toBe('handshaking');
    raw.resetAndDestroy();
    for (let i = 0; i < 40 && child.clientErrors().length === before; i++) await sleep(50);
    const errs = child.clientErrors().slice(before);
    // ECONNRESET as node:tls reports it; a server that was busy with a pairing may learn of the
    // reset only when it writes its answer, which Linux can report as EPIPE.
    expect(errs.length).toBe(1);
    expect(['ECONNRESET', 'EPIPE']).toContain(errs[0]?.['tlsClientError']);
    expect(errs[0]?.['socket']).toBe(true);
    await expectAlive();
  }

  it("a TCP reset after the server's first flight goes to tlsClientError with the socket", async () => {
    // The server has answered the ClientHello and waits for the client's next flight.
    await resetDuringHandshake((raw) => once(raw, 'data'));
  });

  // Milagro modes only: right after the first flight left, the server is busy with its pairing.
  if (mode === 'cs' || mode === 'p2p') {
    it('a TCP reset while the key exchange is computing goes to tlsClientError', async () => {
      await resetDuringHandshake(async (raw) => {
        await once(raw, 'connect');
        await sleep(5); // a pairing takes longer than this even on a quiet machine
      });
    });
  }

  it('still serves a good client afterwards', async () => {
    const { tls } = await established(mode, port);
    tls.end();
    await closed(tls);
    await expectAlive();
  });
});
