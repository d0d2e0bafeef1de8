/**
 * Issue 14 §1: the tunnel library in-process — MILAGRO_P2P keys issued by three DTAs, allow-lists,
 * reload without dropping connections, revocation taking effect when the permits run out
 * (simulated clock), bad input (refused target, garbage, stalls, too many connections), graceful
 * drain, certificate mode with mTLS allow-lists, log records and metrics.
 */
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTunnelClient, createTunnelServer, type TunnelClient, type TunnelServer } from '../../src/tunnel/index.ts';
import type { WccKey } from '../../src/identity/client/shares.ts';
import { MilagroWorkerPool } from '../../src/kex/milagro/pool.ts';
import { closeServer, fixture } from '../api/helpers.ts';
import { crypto, DtaCluster, TestClock } from '../identity/helpers.ts';
import { hashIdHex, registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { saveKeystore } from '../../src/identity/client/keystore.ts';
import { fetchServerSecret } from '../../src/identity/client/shares.ts';
import { formatRecord } from '../../src/tunnel/index.ts';
import { join } from 'node:path';
import { echoTarget, issueWcc, LogCapture, request, revoke } from './helpers.ts';

const BROKER = 'broker.plant.example';
const SENSOR = 'sensor-1.plant.example';
const CONTROLLER = 'controller.plant.example';
const INTRUDER = 'intruder.plant.example';

const clock = new TestClock(Date.now());
let cluster: DtaCluster;
let keys: Record<'broker' | 'sensor' | 'controller' | 'intruder', WccKey>;
let target: Awaited<ReturnType<typeof echoTarget>>;
const closers: (() => Promise<void>)[] = [];
let pool: MilagroWorkerPool;

beforeAll(async () => {
  cluster = await DtaCluster.start(3, clock);
  keys = {
    broker: await issueWcc(cluster, 'sender', BROKER),
    sensor: await issueWcc(cluster, 'receiver', SENSOR),
    controller: await issueWcc(cluster, 'receiver', CONTROLLER),
    intruder: await issueWcc(cluster, 'receiver', INTRUDER),
  };
  target = await echoTarget();
  pool = new MilagroWorkerPool({ size: 1 });
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await pool.close();
  await closeServer(target.server);
  await cluster.stop();
});

const loopback = (port = 0) => ({ host: '127.0.0.1', port });

async function p2pServer(log: LogCapture, extra: Partial<Parameters<typeof createTunnelServer>[0]> = {}): Promise<TunnelServer> {
  const t = await createTunnelServer({
    listen: loopback(),
    target: loopback(target.port),
    credentials: { mode: 'p2p', identity: BROKER, key: { key: keys.broker.key }, allowIdentities: [SENSOR, CONTROLLER] },
    workers: pool,
    log: log.sink,
    ...extra,
  });
  closers.push(() => t.close(0));
  return t;
}

async function p2pClient(identity: string, key: WccKey, serverPort: number, log: LogCapture, extra: Partial<Parameters<typeof createTunnelClient>[0]> = {}): Promise<TunnelClient> {
  const t = await createTunnelClient({
    listen: loopback(),
    target: loopback(serverPort),
    credentials: { mode: 'p2p', identity, key: { key: key.key }, serverIdentity: BROKER },
    log: log.sink,
    ...extra,
  });
  closers.push(() => t.close(0));
  return t;
}

describe('tunnel client → tunnel server → target, MILAGRO_P2P', () => {
  it('forwards both ways, logs one record per connection on each side, counts in the metrics', async () => {
    const slog = new LogCapture();
    const clog = new LogCapture();
    const server = await p2pServer(slog);
    const client = await p2pClient(SENSOR, keys.sensor, server.address().port, clog);
    // TLS 1.2 has no half-close (close_notify closes both ways): end only after the answer.
    const { reply, socket } = await request(client.address().port, 'temperature=21.5');
    expect(reply).toBe('echo:temperature=21.5');
    socket.end();
    const srec = await slog.next();
    const crec = await clog.next();
    expect(srec).toMatchObject({ side: 'server', identity: SENSOR, suite: 'TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256', bytesIn: 16, bytesOut: 21, reason: 'peer_closed' });
    expect(crec).toMatchObject({ side: 'client', identity: BROKER, bytesIn: 16, bytesOut: 21, reason: 'peer_closed' });
    expect(srec.durationMs).toBeGreaterThan(0);
    const text = await server.metrics.text();
    expect(text).toMatch(/milagro_tunnel_handshakes_total\{result="ok",reason="milagro_p2p",side="server"\} 1/);
    expect(text).toMatch(/milagro_tunnel_bytes_total\{direction="in",side="server"\} 16/);
    expect(text).toMatch(/milagro_tunnel_bytes_total\{direction="out",side="server"\} 21/);
    expect(text).toMatch(/milagro_tunnel_handshake_seconds_count\{side="server"\} 1/);
    expect(text).toMatch(/milagro_tunnel_active_connections\{side="server"\} 0/);
  });

  it('an identity not on the allow-list is refused (access_denied) and nothing reaches the target; the tunnel keeps serving', async () => {
    const slog = new LogCapture();
    const clog = new LogCapture();
    const server = await p2pServer(slog);
    const before = target.accepted();
    const intruder = await p2pClient(INTRUDER, keys.intruder, server.address().port, clog);
    const { reply } = await request(intruder.address().port, 'let me in');
    expect(reply).toBe('');
    expect(await slog.next()).toMatchObject({ reason: 'handshake_failed', handshake: 'access_denied' });
    expect(await clog.next()).toMatchObject({ reason: 'handshake_failed', handshake: 'peer_access_denied' });
    expect(target.accepted()).toBe(before);
    expect(await server.metrics.text()).toMatch(/milagro_tunnel_handshakes_total\{result="failed",reason="access_denied",side="server"\} 1/);
    const ok = await p2pClient(CONTROLLER, keys.controller, server.address().port, new LogCapture());
    expect((await request(ok.address().port, 'hello')).reply).toBe('echo:hello');
  });
});

describe('bad input closes that connection with a logged reason; the tunnel keeps serving', () => {
  it('a target refusing connections → target_unreachable', async () => {
    const slog = new LogCapture();
    const dead = await echoTarget();
    const deadPort = dead.port;
    await closeServer(dead.server);
    const server = await p2pServer(slog, { target: loopback(deadPort) });
    const client = await p2pClient(SENSOR, keys.sensor, server.address().port, new LogCapture());
    const { reply } = await request(client.address().port, 'anyone?');
    expect(reply).toBe('');
    const rec = await slog.next();
    expect(rec).toMatchObject({ reason: 'target_unreachable', identity: SENSOR });
    expect(rec.detail).toMatch(/ECONNREFUSED/);
  });

  it('garbage instead of a ClientHello → a decode-type alert; the next client is served', async () => {
    const slog = new LogCapture();
    const server = await p2pServer(slog);
    const port = server.address().port;
    const garbage = netConnect({ port, host: '127.0.0.1' });
    garbage.on('error', () => undefined);
    garbage.end(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const g = await slog.next();
    expect(g.reason).toBe('handshake_failed');
    expect(g.handshake).toMatch(/^(decode_error|unexpected_message|protocol_version|illegal_parameter|record_overflow)$/);
    const client = await p2pClient(CONTROLLER, keys.controller, port, new LogCapture());
    expect((await request(client.address().port, 'still there?')).reply).toBe('echo:still there?');
  });

  it('a raw connection that sends nothing is cut by the handshake timeout', async () => {
    const slog = new LogCapture();
    const server = await p2pServer(slog, { handshakeTimeoutMs: 300 });
    const stall = netConnect({ port: server.address().port, host: '127.0.0.1' });
    stall.on('error', () => undefined);
    expect(await slog.next()).toMatchObject({ reason: 'handshake_failed', handshake: 'timeout' });
    await once(stall, 'close');
  });

  it('a peer that stalls after the handshake is closed by the idle timeout', async () => {
    const slog = new LogCapture();
    const server = await p2pServer(slog, { idleTimeoutMs: 300 });
    const client = await p2pClient(SENSOR, keys.sensor, server.address().port, new LogCapture(), { idleTimeoutMs: 0 });
    const { socket } = await request(client.address().port, 'one message then silence');
    const rec = await slog.next();
    expect(rec).toMatchObject({ reason: 'idle_timeout', bytesIn: 24 });
    await once(socket, 'close');
  });

  it('--max-connections: the connection over the limit is closed at once and logged', async () => {
    const slog = new LogCapture();
    const server = await p2pServer(slog, { maxConnections: 1, handshakeTimeoutMs: 2000 });
    const port = server.address().port;
    const first = netConnect({ port, host: '127.0.0.1' });
    first.on('error', () => undefined);
    await once(first, 'connect');
    await new Promise((r) => setTimeout(r, 50));
    const second = netConnect({ port, host: '127.0.0.1' });
    second.on('error', () => undefined);
    await once(second, 'close');
    expect(await slog.next((r) => r.reason === 'max_connections')).toMatchObject({ reason: 'max_connections' });
    first.destroy();
  });
});

describe('reload and revocation (DTAs, simulated clock)', () => {
  it('reload keeps open connections; a revoked identity is refused once its permits run out', async () => {
    const slog = new LogCapture();
    const dtas = { urls: cluster.urls, enrolmentKey: cluster.key };
    const common = { clock: clock.read, random: cluster.random };
    const server = await createTunnelServer({
      listen: loopback(),
      target: loopback(target.port),
      credentials: { mode: 'p2p', identity: BROKER, key: { dtas }, allowIdentities: [SENSOR, CONTROLLER] },
      workers: pool,
      log: slog.sink,
      ...common,
    });
    closers.push(() => server.close(0));
    const client = (identity: string) =>
      createTunnelClient({
        listen: loopback(),
        target: loopback(server.address().port),
        credentials: { mode: 'p2p', identity, key: { dtas }, serverIdentity: BROKER },
        log: () => undefined,
        ...common,
      }).then((t) => (closers.push(() => t.close(0)), t));
    const sensor = await client(SENSOR);
    const controller = await client(CONTROLLER);
    expect((await request(sensor.address().port, 'day 0')).reply).toBe('echo:day 0');

    // An open connection survives the reloads and the revocation.
    const open = netConnect({ port: controller.address().port, host: '127.0.0.1' });
    open.on('error', () => undefined);
    open.write('open');
    await once(open, 'data');

    await revoke(cluster, SENSOR);
    clock.advanceDays(1);
    await server.reload();
    await controller.reload();
    await expect(sensor.reload()).rejects.toThrow(/revoked/);
    // Day 1: the sensor still holds the permit it fetched for today+1 before the revocation.
    expect((await request(sensor.address().port, 'day 1')).reply).toBe('echo:day 1');

    clock.advanceDays(1);
    await server.reload();
    await controller.reload();
    await expect(sensor.reload()).rejects.toThrow(/revoked/);
    const refused = await request(sensor.address().port, 'day 2');
    expect(refused.reply).toBe('');
    expect((await request(controller.address().port, 'day 2')).reply).toBe('echo:day 2');

    open.write('still open');
    const [late] = (await once(open, 'data')) as [Buffer];
    expect(late.toString()).toBe('echo:still open');
    open.destroy();
    expect(await server.metrics.text()).toMatch(/milagro_tunnel_reloads_total\{result="ok",side="server"\} 2/);
  }, 30_000);
});

describe('graceful shutdown', () => {
  it('close() stops accepting, lets a connection finish, cuts one still open after the drain timeout', async () => {
    const slog = new LogCapture();
    const server = await p2pServer(slog);
    const client = await p2pClient(SENSOR, keys.sensor, server.address().port, new LogCapture());
    const { socket } = await request(client.address().port, 'long-lived');
    const t0 = Date.now();
    await server.close(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await slog.next()).toMatchObject({ reason: 'shutdown', identity: SENSOR });
    await once(socket, 'close');
  });
});

describe('certificate mode (mTLS with --allow-cn)', () => {
  const certServer = async (allowCn: string[], log: LogCapture) => {
    const t = await createTunnelServer({
      listen: loopback(),
      target: loopback(target.port),
      credentials: { mode: 'cert', cert: fixture('server-ec256.pem'), key: fixture('server-ec256.key'), ca: fixture('ca-ec.pem'), allowCn },
      log: log.sink,
    });
    closers.push(() => t.close(0));
    return t;
  };
  const certClient = async (port: number, log: LogCapture) => {
    const t = await createTunnelClient({
      listen: loopback(),
      target: { host: '127.0.0.1', port },
      credentials: { mode: 'cert', ca: fixture('ca-ec.pem'), servername: 'localhost', cert: fixture('client-only.pem'), key: fixture('client-only.key') },
      log: log.sink,
    });
    closers.push(() => t.close(0));
    return t;
  };

  it('a client certificate with an allowed CN passes; another CN is refused before the target is dialled', async () => {
    const slog = new LogCapture();
    const ok = await certServer(['localhost'], slog);
    const c1 = await certClient(ok.address().port, new LogCapture());
    expect((await request(c1.address().port, 'cert')).reply).toBe('echo:cert');
    const denied = await certServer(['billing.internal'], slog);
    const c2 = await certClient(denied.address().port, new LogCapture());
    expect((await request(c2.address().port, 'cert')).reply).toBe('');
    expect(await slog.next((r) => r.reason === 'not_allowed')).toMatchObject({ identity: 'localhost', detail: expect.stringMatching(/CN=localhost/) });
  });
});


describe('MILAGRO_CS mode (keystore + PIN from an environment variable; server secret)', () => {
  it('a registered client with the right PIN passes; a wrong PIN and an identity off the allow-list are refused', async () => {
    const dir = await cluster.tempDir();
    const register = async (identity: string, pin: string): Promise<string> => {
      const hashId = hashIdHex(crypto, identity);
      const ks = await registerIdentity({
        crypto,
        identity,
        pin,
        dtas: cluster.urls,
        clientSecretRequest: cluster.sign({ op: 'client-secret', hashId }),
        timePermitRequest: cluster.sign({ op: 'time-permits', hashId }),
      });
      const file = join(dir, `${identity}.keystore.json`);
      await saveKeystore(file, ks, cluster.random);
      return file;
    };
    const alice = await register('alice@plant.example', '1234');
    const mallory = await register('mallory@plant.example', '4321');
    const serverSecret = await fetchServerSecret({ crypto, dtas: cluster.urls, request: cluster.sign({ op: 'server-secret' }) });
    const slog = new LogCapture();
    const server = await createTunnelServer({
      listen: loopback(),
      target: loopback(target.port),
      credentials: { mode: 'cs', serverKey: serverSecret.key, allowIdentities: ['alice@plant.example'] },
      workers: pool,
      log: slog.sink,
      clock: clock.read,
    });
    closers.push(() => server.close(0));
    const csClient = async (keystore: string, env: string) => {
      const t = await createTunnelClient({
        listen: loopback(),
        target: loopback(server.address().port),
        credentials: { mode: 'cs', keystore: { file: keystore }, pin: { env } },
        log: () => undefined,
        clock: clock.read,
      });
      closers.push(() => t.close(0));
      return t;
    };
    process.env['TUNNEL_TEST_PIN_OK'] = '1234';
    process.env['TUNNEL_TEST_PIN_BAD'] = '1235';
    process.env['TUNNEL_TEST_PIN_MALLORY'] = '4321';
    const ok = await csClient(alice, 'TUNNEL_TEST_PIN_OK');
    const first = await request(ok.address().port, 'M-Pin');
    expect(first.reply).toBe('echo:M-Pin');
    first.socket.end();
    expect(await slog.next()).toMatchObject({ identity: 'alice@plant.example', suite: 'TLS_MILAGRO_CS_WITH_AES_128_GCM_SHA256' });
    const n = slog.connections.length;
    const wrongPin = await csClient(alice, 'TUNNEL_TEST_PIN_BAD');
    expect((await request(wrongPin.address().port, 'M-Pin')).reply).toBe('');
    expect(await slog.next(() => true, n)).toMatchObject({ reason: 'handshake_failed', handshake: 'access_denied' });
    const notAllowed = await csClient(mallory, 'TUNNEL_TEST_PIN_MALLORY');
    expect((await request(notAllowed.address().port, 'M-Pin')).reply).toBe('');
    expect(await slog.next(() => true, n + 1)).toMatchObject({ reason: 'handshake_failed', handshake: 'access_denied' });
  }, 30_000);
});

describe('log lines', () => {
  it('text is key=value (quoted when needed), JSON is one object per line', () => {
    const r = {
      type: 'connection',
      time: '2026-12-07T09:00:00.000Z',
      side: 'server',
      conn: 7,
      remote: '127.0.0.1:5555',
      identity: 'sensor-1.plant.example',
      suite: 'TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256',
      bytesIn: 10,
      bytesOut: 20,
      durationMs: 1500,
      reason: 'target_error',
      detail: 'ECONNRESET: read ECONNRESET',
    } as const;
    expect(formatRecord(r, 'text')).toBe(
      '2026-12-07T09:00:00.000Z tunnel-server conn=7 remote=127.0.0.1:5555 identity=sensor-1.plant.example suite=TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256 in=10 out=20 duration=1.500s reason=target_error detail="ECONNRESET: read ECONNRESET"',
    );
    expect(JSON.parse(formatRecord(r, 'json'))).toEqual(r);
  });
});
