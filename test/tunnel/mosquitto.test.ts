/**
 * Issue 14 §2: MQTT over MILAGRO_P2P with real software. A throw-away mosquitto broker on
 * loopback behind `milagro-ts tunnel server`; mosquitto_sub and mosquitto_pub each behind their
 * own `milagro-ts tunnel client` with identities issued by three local DTAs (keys and time
 * permits fetched by the tunnels themselves, --dtas). Also: an identity not on the allow-list,
 * SIGHUP reload, --status metrics, SIGTERM drain; a revoked identity refused after its permits
 * roll over (tunnel library in-process, simulated clock shared with the DTAs, still real
 * mosquitto and mosquitto_pub); and the `mqtt` npm client over our connect() (no client tunnel).
 *
 * Needs /usr/sbin/mosquitto, mosquitto_sub, mosquitto_pub (.ci/run installs them); skipped with
 * a loud warning otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { type EventEmitter, once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.ts';
import { saveEnrolmentKey } from '../../src/identity/enrolment.ts';
import { createTunnelClient, createTunnelServer } from '../../src/tunnel/index.ts';
import { spawnCli, type CliProcess } from '../helpers/cli.ts';
import { DtaCluster, TestClock } from '../identity/helpers.ts';
import { issueWcc, LogCapture, revoke } from './helpers.ts';
import { freePort } from '../../interop/process.ts';
import { MOSQUITTO, startMosquitto } from '../../demo/mosquitto.ts';

const PUB = '/usr/bin/mosquitto_pub';
const SUB = '/usr/bin/mosquitto_sub';
const HAVE_MOSQUITTO = [MOSQUITTO, PUB, SUB].every((p) => existsSync(p));
if (!HAVE_MOSQUITTO) {
  console.warn(
    '\n!!! SKIPPING the MQTT-over-Milagro tests: mosquitto is not installed.\n!!! Install it with: sudo apt-get install mosquitto mosquitto-clients\n',
  );
}

const BROKER = 'broker.plant.example';
const SENSOR = 'sensor-1.plant.example';
const CONTROLLER = 'controller.plant.example';
const INTRUDER = 'intruder.plant.example';


let dir: string;
let cluster: DtaCluster;
let broker: ChildProcess;
let brokerPort: number;
let enrolKeyFile: string;

async function startBroker(): Promise<void> {
  brokerPort = await freePort();
  broker = await startMosquitto(dir, brokerPort);
}

beforeAll(async () => {
  if (!HAVE_MOSQUITTO) return;
  dir = await mkdtemp(join(tmpdir(), 'milagro-mqtt-'));
  cluster = await DtaCluster.start(3, new TestClock(Date.now()));
  enrolKeyFile = join(dir, 'admin.key');
  await saveEnrolmentKey(enrolKeyFile, cluster.key, cluster.random);
  await startBroker();
}, 60_000);

afterAll(async () => {
  if (!HAVE_MOSQUITTO) return;
  broker?.kill('SIGTERM');
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The tunnel's `listening` line carries its address (port 0 picks a free one). */
async function listeningPort(p: CliProcess): Promise<number> {
  const m = await p.waitFor(/listening\W+(?:detail\W+)?on 127\.0\.0\.1:(\d+)/, 30_000);
  return Number(m[1]);
}

function dtaFlags(): string[] {
  return ['--dtas', cluster.urls.join(','), '--enrol-key', enrolKeyFile];
}

function tunnelClient(identity: string, serverPort: number): CliProcess {
  return spawnCli(['tunnel', 'client', '--listen', '127.0.0.1:0', '--target', `127.0.0.1:${serverPort}`, '--identity', identity, '--server-identity', BROKER, ...dtaFlags()]);
}

function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string }> {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => p.once('close', (code) => (clearTimeout(timer), resolve({ code, out }))));
}

describe.skipIf(!HAVE_MOSQUITTO)('MQTT over MILAGRO_P2P with mosquitto, mosquitto_sub and mosquitto_pub', () => {
  it('publish → subscribe through two tunnel clients and one tunnel server; intruder refused; SIGHUP; metrics; SIGTERM drains', async () => {
    const server = spawnCli([
      'tunnel', 'server', '--listen', '127.0.0.1:0', '--target', `127.0.0.1:${brokerPort}`,
      '--identity', BROKER, '--allow-identity', SENSOR, '--allow-identity', CONTROLLER, ...dtaFlags(),
      '--status', '127.0.0.1:0', '--log-format', 'json', '--drain-timeout', '500ms', '--workers', '1',
    ]);
    const serverPort = await listeningPort(server);
    const statusUrl = (await server.waitFor(/"event":"status_listening","detail":"(http:\/\/[^"]+)"/))[1] ?? '';
    const sensor = tunnelClient(SENSOR, serverPort);
    const controller = tunnelClient(CONTROLLER, serverPort);
    const intruder = tunnelClient(INTRUDER, serverPort);
    const [subPort, pubPort, intruderPort] = await Promise.all([listeningPort(controller), listeningPort(sensor), listeningPort(intruder)]);

    // The controller subscribes (two messages), the sensor publishes.
    const sub = spawn(SUB, ['-h', '127.0.0.1', '-p', String(subPort), '-t', 'plant/line1/temperature', '-C', '2', '-W', '40', '-v', '-i', 'controller'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let received = '';
    sub.stdout.setEncoding('utf8').on('data', (d: string) => (received += d));
    sub.stderr.setEncoding('utf8').on('data', (d: string) => (received += d));
    // Publish until the subscription is in place (the subscriber's handshake may still be running).
    for (let i = 0; i < 60 && !received.includes('21.5'); i++) {
      const pub = await run(PUB, ['-h', '127.0.0.1', '-p', String(pubPort), '-t', 'plant/line1/temperature', '-m', 'temperature=21.5', '-i', 'sensor-1']);
      expect(pub.code, pub.out).toBe(0);
      if (!received.includes('21.5')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(received).toContain('plant/line1/temperature temperature=21.5');

    // Not on the allow-list: the handshake is refused, mosquitto_pub cannot connect.
    const bad = await run(PUB, ['-h', '127.0.0.1', '-p', String(intruderPort), '-t', 'plant/line1/temperature', '-m', 'fake=99', '-i', 'intruder']);
    expect(bad.code).not.toBe(0);
    await server.waitFor(/"reason":"handshake_failed","handshake":"access_denied"/);
    expect(received).not.toContain('fake=99');

    // SIGHUP: keys and permits refetched from the DTAs; the subscriber's connection stays up.
    server.proc.kill('SIGHUP');
    await server.waitFor(/"event":"reloaded","detail":"MILAGRO_P2P as broker\.plant\.example/);
    const metrics = await (await fetch(`${statusUrl}`)).text();
    expect(metrics).toMatch(/milagro_tunnel_handshakes_total\{result="ok",reason="milagro_p2p",side="server"\} [1-9]/);
    expect(metrics).toMatch(/milagro_tunnel_handshakes_total\{result="failed",reason="access_denied",side="server"\} 1/);
    expect(metrics).toMatch(/milagro_tunnel_active_connections\{side="server"\} 1/);
    expect(metrics).toMatch(/milagro_tunnel_reloads_total\{result="ok",side="server"\} 1/);
    const health = (await (await fetch(statusUrl.replace('/metrics', '/healthz'))).json()) as { state: string; active: number };
    expect(health).toMatchObject({ state: 'serving', active: 1 });
    if (process.env['TUNNEL_PRINT_METRICS'] === '1') console.log(metrics);

    // SIGTERM: stop accepting, drain (the subscriber is still connected), cut it, exit 0.
    server.proc.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    expect(server.stdout).toMatch(/"event":"draining"/);
    expect(server.stdout).toMatch(/"identity":"controller\.plant\.example".*"reason":"shutdown"/);
    // mosquitto_sub does not exit when its broker goes away (it keeps reconnecting until -W runs
    // out, 40 s): the cut is proved by the server's log line above; stop it here.
    expect(sub.exitCode).toBe(null);
    sub.kill('SIGTERM');
    await once(sub, 'close');
    for (const c of [sensor, controller, intruder]) c.proc.kill('SIGTERM');
    expect(await Promise.all([sensor.exit, controller.exit, intruder.exit])).toEqual([0, 0, 0]);
  }, 120_000);

  it('a revoked identity is refused once its time permits run out (simulated clock, in-process tunnels, real mosquitto_pub)', async () => {
    const clock = new TestClock(Date.now());
    const dtas = await DtaCluster.start(3, clock);
    try {
      const refresh = { urls: dtas.urls, enrolmentKey: dtas.key };
      const common = { clock: clock.read, random: dtas.random };
      const slog = new LogCapture();
      const server = await createTunnelServer({
        listen: { host: '127.0.0.1', port: 0 },
        target: { host: '127.0.0.1', port: brokerPort },
        credentials: { mode: 'p2p', identity: BROKER, key: { dtas: refresh }, allowIdentities: [SENSOR] },
        workers: 1,
        log: slog.sink,
        ...common,
      });
      const client = await createTunnelClient({
        listen: { host: '127.0.0.1', port: 0 },
        target: { host: '127.0.0.1', port: server.address().port },
        credentials: { mode: 'p2p', identity: SENSOR, key: { dtas: refresh }, serverIdentity: BROKER },
        log: () => undefined,
        ...common,
      });
      const pub = (): Promise<{ code: number | null; out: string }> =>
        run(PUB, ['-h', '127.0.0.1', '-p', String(client.address().port), '-t', 'plant/revocation', '-m', 'x', '-i', 'sensor-1']);
      try {
        expect((await pub()).code).toBe(0);
        await revoke(dtas, SENSOR);
        clock.advanceDays(2); // past the last permit fetched before the revocation (today + 1)
        await server.reload();
        await expect(client.reload()).rejects.toThrow(/revoked/);
        expect((await pub()).code).not.toBe(0);
        expect(slog.connections.at(-1)?.reason).toBe('handshake_failed');
      } finally {
        await client.close(0);
        await server.close(0);
      }
    } finally {
      await dtas.stop();
    }
  }, 60_000);

  it('the mqtt npm client straight over connect() (MILAGRO_P2P, no client tunnel)', async () => {
    const key = await issueWcc(cluster, 'sender', BROKER);
    const clientKey = await issueWcc(cluster, 'receiver', CONTROLLER);
    const server = await createTunnelServer({
      listen: { host: '127.0.0.1', port: 0 },
      target: { host: '127.0.0.1', port: brokerPort },
      credentials: { mode: 'p2p', identity: BROKER, key: { key: key.key }, allowIdentities: [CONTROLLER] },
      workers: 0,
      log: () => undefined,
    });
    try {
      const port = server.address().port;
      const mqtt = new MqttClient(
        () => connect({ host: '127.0.0.1', port, milagroP2p: { identity: CONTROLLER, receiverKey: clientKey.key, serverIdentity: BROKER } }),
        { clientId: 'node-controller', reconnectPeriod: 0, connectTimeout: 20_000, protocolVersion: 4 },
      );
      const events = mqtt as unknown as EventEmitter; // mqtt's typed emitter lacks node's signatures
      await once(events, 'connect');
      await mqtt.subscribeAsync('plant/node');
      const got = once(events, 'message') as Promise<[string, Buffer]>;
      await mqtt.publishAsync('plant/node', 'over MILAGRO_P2P', { qos: 1 });
      const [topic, payload] = await got;
      expect([topic, payload.toString()]).toEqual(['plant/node', 'over MILAGRO_P2P']);
      await mqtt.endAsync();
    } finally {
      await server.close(0);
    }
  }, 60_000);
});

