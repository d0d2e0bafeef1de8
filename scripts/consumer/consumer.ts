// A TypeScript consumer of the installed package, type-checked (never run) with strict,
// module NodeNext, noUnusedLocals and skipLibCheck false against the shipped .d.ts files.
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'milagro-ts';
import { MilagroCrypto, loadKeystore, type Keystore } from 'milagro-ts/identity';
import { RelyingParty, handleNode, loadWebAssets, type RelyingPartyOptions } from 'milagro-ts/web';
import type { MpinWebClientOptions } from 'milagro-ts/web/browser';
import { createServer as createHttpServer } from 'node:http';

export async function signIn(port: number, pin: number): Promise<string | undefined> {
  const keystore: Keystore = await loadKeystore('alice.keystore.json', new MilagroCrypto());
  const server: Server = createServer({ milagro: { serverSecret: new Uint8Array(128), timePermits: true } }, (s: TLSSocket) => {
    s.end(s.getPeerIdentity()?.identity ?? 'unknown');
  });
  server.listen(port);
  const options: ConnectionOptions = { port, host: '127.0.0.1', milagro: { keystore, pin } };
  const socket = connect(options);
  await new Promise<void>((resolve) => socket.once('secureConnect', resolve));
  const who = socket.getPeerIdentity()?.identity;
  socket.end();
  server.close();
  // @ts-expect-error: the port is a number (proves the options are typed, not `any`).
  connect({ port: 'not a port' });
  return who;
}

export async function site(options: RelyingPartyOptions): Promise<void> {
  const rp = await RelyingParty.create({ ...options, assets: await loadWebAssets() });
  createHttpServer((req, res) => {
    void handleNode(rp, req, res).then((handled) => {
      if (!handled) res.end('my site');
    });
  }).listen(8080);
}

export type BrowserOptions = MpinWebClientOptions;
