/**
 * `npm run demo:iot`: MQTT devices that know each other only by name (issue 14 §2).
 *
 *  1. three distributed trust authorities (DTAs) on loopback;
 *  2. an MQTT broker (mosquitto if installed, else the in-process aedes broker) listening on
 *     loopback only, behind a MILAGRO_P2P tunnel server that lets in two sensors and a controller;
 *  3. each device runs its own tunnel client: its identity's key and today's time permits come
 *     from the DTAs; the MQTT client talks plain MQTT to its local tunnel end;
 *  4. sensors publish readings, the controller answers with commands, printed as they flow;
 *  5. a device with a valid identity that is not on the broker's allow-list is refused.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, createServer as netCreateServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { bytesToHex } from '../src/codec/bytes.ts';
import { generateEnrolmentKey } from '../src/identity/auth.ts';
import { DtaService } from '../src/identity/dta/server.ts';
import { MilagroCrypto } from '../src/identity/milagro-crypto.ts';
import { systemClock, systemRandom } from '../src/providers.ts';
import { createTunnelClient, createTunnelServer, type ConnectionRecord, type TunnelClient, type TunnelLogRecord } from '../src/tunnel/index.ts';
import { freePort } from '../interop/process.ts';
import { MOSQUITTO, startMosquitto } from './mosquitto.ts';

const BROKER = 'broker.plant.example';
const SENSORS = ['sensor-1.plant.example', 'sensor-2.plant.example'] as const;
const CONTROLLER = 'controller.plant.example';
const INTRUDER = 'intruder.plant.example';

const tty = process.stdout.isTTY;
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const green = (s: string): string => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string): string => (tty ? `\x1b[31m${s}\x1b[0m` : s);
const step = (n: number, s: string): void => console.log(`\n${bold(`${n}. ${s}`)}`);
const info = (s: string): void => console.log(`   ${s}`);


/** mosquitto on loopback with a throw-away config, or aedes in-process when it is not installed. */
async function startBroker(dir: string): Promise<{ port: number; name: string; stop: () => Promise<void> }> {
  const port = await freePort();
  // DEMO_IOT_BROKER=aedes tries the fallback on a machine that has mosquitto.
  if (existsSync(MOSQUITTO) && process.env['DEMO_IOT_BROKER'] !== 'aedes') {
    const proc = await startMosquitto(dir, port);
    return { port, name: `mosquitto (${MOSQUITTO})`, stop: async () => void proc.kill('SIGTERM') };
  }
  info(red('mosquitto is not installed (sudo apt-get install mosquitto mosquitto-clients); using the in-process aedes broker instead'));
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server: NetServer = netCreateServer((s) => aedes.handle(s));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port,
    name: 'aedes (in-process)',
    stop: async () => {
      await new Promise((r) => server.close(r));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

async function main(): Promise<void> {
  console.log(bold('milagro-ts demo:iot — MQTT devices that know each other only by name'));
  const crypto = new MilagroCrypto();
  const base = await mkdtemp(join(tmpdir(), 'milagro-ts-iot-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    step(1, 'Three trust authorities (DTAs) on loopback');
    const enrolmentKey = generateEnrolmentKey(systemRandom);
    const urls: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const dataDir = join(base, `dta${i}`);
      await mkdir(dataDir);
      const dta = await DtaService.open({ dataDir, crypto, trustedKeys: [bytesToHex(enrolmentKey.publicKey)], clock: systemClock, random: systemRandom });
      const port = await dta.listen(0);
      stops.push(() => dta.close());
      urls.push(`http://127.0.0.1:${port}`);
      info(`DTA ${i}: http://127.0.0.1:${port}  (holds one share of the master secret)`);
    }
    const dtas = { urls, enrolmentKey };

    step(2, 'An MQTT broker behind a MILAGRO_P2P tunnel server');
    const broker = await startBroker(base);
    stops.push(broker.stop);
    info(`${broker.name} on 127.0.0.1:${broker.port}: plain MQTT, reachable only on loopback`);
    const refusals: ConnectionRecord[] = [];
    const onServerLog = (r: TunnelLogRecord): void => {
      if (r.type === 'connection' && r.reason === 'handshake_failed') refusals.push(r);
    };
    const server = await createTunnelServer({
      listen: { host: '127.0.0.1', port: 0 },
      target: { host: '127.0.0.1', port: broker.port },
      credentials: { mode: 'p2p', identity: BROKER, key: { dtas }, allowIdentities: [...SENSORS, CONTROLLER] },
      log: onServerLog,
    });
    stops.push(() => server.close(500));
    info(`tunnel server ${server.addressText()} as ${BROKER}; allow-list: ${[...SENSORS, CONTROLLER].join(', ')}`);
    info(dim(server.status().credentials));

    step(3, 'Each device starts its own tunnel client (keys and time permits fetched from the DTAs)');
    const tunnelFor = async (identity: string): Promise<TunnelClient> => {
      const t = await createTunnelClient({
        listen: { host: '127.0.0.1', port: 0 },
        target: { host: '127.0.0.1', port: server.address().port },
        credentials: { mode: 'p2p', identity, key: { dtas }, serverIdentity: BROKER },
        log: () => undefined,
      });
      stops.push(() => t.close(500));
      info(`${identity.padEnd(26)} local MQTT at ${t.addressText()}  ${dim(t.status().credentials.replace(/^MILAGRO_P2P as \S+ to \S+, /, ''))}`);
      return t;
    };
    const devices = new Map<string, MqttClient>();
    const mqttVia = async (identity: string, t: TunnelClient): Promise<MqttClient> => {
      const c = mqttConnect({ host: '127.0.0.1', port: t.address().port, clientId: identity, reconnectPeriod: 0, connectTimeout: 30_000 });
      await once(c as unknown as import('node:events').EventEmitter, 'connect');
      devices.set(identity, c);
      stops.push(() => c.endAsync());
      return c;
    };
    const tunnels = await Promise.all([...SENSORS, CONTROLLER].map(async (id) => [id, await tunnelFor(id)] as const));
    const t0 = performance.now();
    for (const [id, t] of tunnels) await mqttVia(id, t);
    info(green(`✔ 3 MILAGRO_P2P handshakes done, MQTT sessions up (${(performance.now() - t0).toFixed(0)} ms)`));

    step(4, 'Sensors publish, the controller commands (as the messages flow)');
    const controller = devices.get(CONTROLLER);
    if (controller === undefined) throw new Error('controller not connected');
    const stamp = (): string => dim(new Date().toISOString().slice(11, 23));
    await controller.subscribeAsync('plant/+/temperature');
    controller.on('message', (topic, payload) => {
      const sensor = topic.split('/')[1] ?? '?';
      const t = Number(payload.toString());
      console.log(`   ${stamp()} controller ← ${topic} ${payload.toString()} °C`);
      if (t > 22) void controller.publishAsync(`plant/${sensor}/cmd`, 'fan on');
    });
    for (const id of SENSORS) {
      const c = devices.get(id);
      if (c === undefined) continue;
      await c.subscribeAsync(`plant/${id}/cmd`);
      c.on('message', (topic, payload) => console.log(`   ${stamp()} ${id.split('.')[0]} ← ${topic} "${payload.toString()}"`));
    }
    for (let round = 0; round < 4; round++) {
      for (const [i, id] of SENSORS.entries()) {
        const reading = (20.5 + i * 1.5 + round * 0.4).toFixed(1);
        console.log(`   ${stamp()} ${id.split('.')[0]} → plant/${id}/temperature ${reading}`);
        await devices.get(id)?.publishAsync(`plant/${id}/temperature`, reading, { qos: 1 });
      }
      await new Promise((r) => setTimeout(r, 300));
    }

    step(5, `A device with a valid identity that is not on the allow-list: ${INTRUDER}`);
    const intruder = await tunnelFor(INTRUDER);
    // A raw MQTT CONNECT (protocol 3.1.1, client id "intruder") into the intruder's local tunnel end.
    const bad = netConnect({ host: '127.0.0.1', port: intruder.address().port });
    bad.on('error', () => undefined);
    bad.write(Buffer.from('101400044d5154540402003c0008696e747275646572', 'hex'));
    await new Promise((r) => bad.once('close', r)); // (events.once would reject on the reset)
    const why = refusals.at(-1);
    info(red(`✘ refused by the tunnel server: ${why?.handshake ?? '?'} (${why?.detail ?? 'no log'}); the broker never saw a byte`));

    step(6, 'Who holds what — and why there is no certificate or CA');
    info(`${bold('DTAs')}: one random share s_i of the master secret each. Nobody, not even an administrator, holds s = Σ s_i.`);
    info(`${bold('broker tunnel')}: its name "${BROKER}", the sender key [s]H1(name) (the sum of three DTA shares)`);
    info('  and a time permit per day; its allow-list of device names.');
    info(`${bold('each device tunnel')}: its name, the receiver key [s]H2(name) and its daily permits, and the broker's name.`);
    info(`${bold('MQTT broker and clients')}: nothing — plain MQTT on loopback; the tunnels do the TLS.`);
    info('A name is a public key: anyone can compute H1(name)/H2(name), but only a key issued by the DTAs for');
    info('that exact name completes the MILAGRO_P2P handshake, so there is nothing to sign, chain or pin —');
    info('no certificate, no CA. Revocation: the DTAs stop issuing permits for a name; its handshakes fail');
    info('once its permits run out (`milagro-ts identity revoke NAME`), while open sessions finish normally.');
    const text = await server.metrics.text();
    const ok = /milagro_tunnel_handshakes_total\{result="ok",reason="milagro_p2p"[^}]*\} (\d+)/.exec(text)?.[1] ?? '0';
    const denied = /milagro_tunnel_handshakes_total\{result="failed",reason="access_denied"[^}]*\} (\d+)/.exec(text)?.[1] ?? '0';
    info(dim(`tunnel server metrics: ${ok} handshakes ok, ${denied} refused (access_denied)`));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  }
}

await main();
