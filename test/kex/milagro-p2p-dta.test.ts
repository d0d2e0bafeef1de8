/**
 * Issue 7 items 3, 4: MILAGRO_P2P keys issued by three DTAs (identity layer: each DTA holds a
 * share of the master secret; the holder adds the WCC sender/receiver shares), used over real
 * sockets with and without time permits, and exported to / imported from the original
 * P2PServerKey / P2PClientKey hex files.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type TLSSocket } from '../../src/index.ts';
import { dayOf } from '../../src/crypto/mpin.ts';
import { hashIdHex } from '../../src/identity/client/mpin-client.ts';
import { fetchWccKey, type WccKey } from '../../src/identity/client/shares.ts';
import { readHexKeyFile, writeHexKeyFile } from '../../src/identity/hex-files.ts';
import { closeServer, listen } from '../api/helpers.ts';
import { crypto, DtaCluster, TestClock } from '../identity/helpers.ts';

const SERVER_ID = 'sensor-17.plant.example';
const CLIENT_ID = 'controller@plant.example';
const now = Date.now();
const today = dayOf(now);

let cluster: DtaCluster;
let senderKey: WccKey;
let receiverKey: WccKey;
const servers: Server[] = [];

async function issue(role: 'sender' | 'receiver', identity: string): Promise<WccKey> {
  const hashId = hashIdHex(crypto, identity);
  const op = role === 'sender' ? 'wcc-sender' : 'wcc-receiver';
  return fetchWccKey({ crypto, dtas: cluster.urls, role, hashId, request: cluster.sign({ op, hashId, withPermits: true, fromDay: today, toDay: today + 1 }) });
}

beforeAll(async () => {
  cluster = await DtaCluster.start(3, new TestClock(now));
  senderKey = await issue('sender', SERVER_ID);
  receiverKey = await issue('receiver', CLIENT_ID);
}, 60_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => closeServer(s)));
  await cluster.stop();
});

async function serve(options: Parameters<typeof createServer>[0]): Promise<number> {
  const server = createServer(options);
  servers.push(server);
  server.on('secureConnection', (s: TLSSocket) => {
    s.on('data', (d: Buffer) => s.end(`${s.getPeerIdentity()?.identity ?? '?'}: ${d.toString()}`));
    s.on('error', () => undefined);
  });
  return listen(server);
}

async function talk(s: TLSSocket, msg: string): Promise<string> {
  await once(s, 'secureConnect');
  expect(s.getPeerIdentity()).toMatchObject({ kind: 'wcc', identity: SERVER_ID, hashId: hashIdHex(crypto, SERVER_ID) });
  s.write(msg);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('MILAGRO_P2P with keys issued by three DTAs', () => {
  it('the recombined keys authenticate both identities (permits off, the milagro-tls mode)', async () => {
    expect(senderKey.fingerprints.length).toBe(3);
    const port = await serve({ milagroP2p: { identity: SERVER_ID, senderKey: senderKey.key, allowedClients: [CLIENT_ID], workers: 1 } });
    const s = connect({ port, host: '127.0.0.1', milagroP2p: { identity: CLIENT_ID, receiverKey: receiverKey.key, serverIdentity: SERVER_ID } });
    expect(await talk(s, 'hello')).toBe(`${CLIENT_ID}: hello`);
  });

  it('with time permits on both sides (the map fetchWccKey returns)', async () => {
    expect([...senderKey.permits.keys()]).toEqual([today, today + 1]);
    const port = await serve({ milagroP2p: { identity: SERVER_ID, senderKey: senderKey.key, timePermits: senderKey.permits, workers: false } });
    const s = connect({
      port,
      host: '127.0.0.1',
      milagroP2p: { identity: CLIENT_ID, receiverKey: receiverKey.key, serverIdentity: SERVER_ID, timePermits: receiverKey.permits },
    });
    expect(await talk(s, 'with permits')).toBe(`${CLIENT_ID}: with permits`);
  });

  it('a client whose permits are all for other days fails before sending its key exchange', async () => {
    const port = await serve({ milagroP2p: { identity: SERVER_ID, senderKey: senderKey.key, timePermits: senderKey.permits, workers: false } });
    const stale = new Map([[today - 5, receiverKey.permits.get(today) ?? new Uint8Array()]]);
    const s = connect({ port, host: '127.0.0.1', milagroP2p: { identity: CLIENT_ID, receiverKey: receiverKey.key, serverIdentity: SERVER_ID, timePermits: stale } });
    const [err] = (await once(s, 'error')) as [Error];
    expect(err.message).toMatch(/time permit/);
  });

  it('export to P2PServerKey / P2PClientKey files and import them back (hex text and file reader)', async () => {
    const dir = await cluster.tempDir();
    await writeHexKeyFile(join(dir, 'P2PServerKey'), 'P2PServerKey', senderKey.key, crypto, cluster.random);
    await writeHexKeyFile(join(dir, 'P2PClientKey'), 'P2PClientKey', receiverKey.key, crypto, cluster.random);
    const serverText = await readFile(join(dir, 'P2PServerKey'), 'utf8');
    const clientText = await readFile(join(dir, 'P2PClientKey'), 'utf8');
    expect(serverText).toMatch(/^[0-9a-f]{130}$/); // the original format: lowercase hex, no newline
    expect(clientText).toMatch(/^[0-9a-f]{256}$/);
    // Server: the file's text as the option; client: the identity layer's validating reader.
    const port = await serve({ milagroP2p: { identity: SERVER_ID, senderKey: serverText, workers: false } });
    const receiver = await readHexKeyFile(join(dir, 'P2PClientKey'), 'P2PClientKey', crypto);
    const s = connect({ port, host: '127.0.0.1', milagroP2p: { identity: CLIENT_ID, receiverKey: receiver, serverIdentity: SERVER_ID } });
    expect(await talk(s, 'from files')).toBe(`${CLIENT_ID}: from files`);
  });
});
