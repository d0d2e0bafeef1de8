/** `tls` option: a DTA served over HTTPS (node:https) answers status and issuing requests. */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DtaService } from '../../src/identity/dta/server.ts';
import { callDta } from '../../src/identity/client/dta-client.ts';
import { hashIdHex } from '../../src/identity/client/mpin-client.ts';
import { crypto, DtaCluster, TestClock } from './helpers.ts';

const certs = new URL('../fixtures/certs/', import.meta.url);
const read = (f: string): string => readFileSync(new URL(f, certs), 'utf8');

function post(port: number, path: string, body: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', ca: read('ca-ec.pem'), servername: 'localhost', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('DTA over HTTPS', () => {
  const clock = new TestClock(Date.UTC(2026, 10, 28, 10));
  let cluster: DtaCluster;
  let service: DtaService;
  let port: number;
  beforeAll(async () => {
    cluster = await DtaCluster.start(0, clock);
    service = await DtaService.open(cluster.options(await cluster.tempDir(), { tls: { cert: read('server-ec256.pem'), key: read('server-ec256.key') } }));
    port = await service.listen(0);
  });
  afterAll(async () => {
    await service.close();
    await cluster.stop();
  });

  it('serves status and issues shares over TLS', async () => {
    expect(service.scheme).toBe('https');
    const st = await post(port, '/v1/status', undefined);
    expect(st.status).toBe(200);
    expect(st.json['fingerprint']).toBe(service.fingerprint);
    const hashId = hashIdHex(crypto, 'tls@example.com');
    const r = await post(port, '/v1/client-secret', JSON.stringify(cluster.sign({ op: 'client-secret', hashId })));
    expect(r.status).toBe(200);
    expect(r.json['clientSecretShare']).toMatch(/^04[0-9a-f]{128}$/);
  });

  it('a client that does not trust the certificate gets an error naming the DTA', async () => {
    const url = `https://127.0.0.1:${port}`;
    await expect(callDta(url, '/v1/status', undefined)).rejects.toThrow(new RegExp(`DTA ${url}: unreachable`));
  });

  it('plain HTTP to the HTTPS port fails without harming the service', async () => {
    await expect(callDta(`http://127.0.0.1:${port}`, '/v1/status', undefined)).rejects.toThrow(/DTA/);
    expect((await post(port, '/v1/status', undefined)).status).toBe(200);
  });
});
