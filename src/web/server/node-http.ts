/**
 * node:http adapter for the relying party. `handleNode` answers requests under the prefix and
 * returns false for anything else, so a site keeps its own routing:
 *
 *   createServer(async (req, res) => { if (await handleNode(rp, req, res)) return; ...site... })
 *
 * The body is read with a hard cap before the relying party sees it; an oversized body is
 * answered 413 and the connection closed without reading the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { BodyTooLargeError, readBody } from '../../identity/http-body.ts';
import type { RelyingParty, RpRequest, RpResponse } from './relying-party.ts';

export { readBody };

/** The framework-free view of a node request (body already read). */
export function toRpRequest(req: IncomingMessage, body: Uint8Array = new Uint8Array(0)): RpRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    body,
    remoteAddress: req.socket.remoteAddress ?? '',
    secure: (req.socket as Partial<TLSSocket>).encrypted === true,
  };
}

export function writeRpResponse(res: ServerResponse, r: RpResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
  res.end(r.body);
}

/** Handles one request if it is under the relying party's prefix; resolves false otherwise. */
export async function handleNode(rp: RelyingParty, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (!rp.owns(req.url ?? '/')) return false;
  let body: Uint8Array;
  try {
    body = await readBody(req, rp.maxBodyBytes);
  } catch (e) {
    if (!(e instanceof BodyTooLargeError)) {
      res.destroy();
      return true;
    }
    const text = JSON.stringify({ error: { code: 'body_too_large', message: `the body is larger than ${rp.maxBodyBytes} bytes` } });
    res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
    res.end(text, () => req.socket.destroy());
    return true;
  }
  writeRpResponse(res, await rp.handle(toRpRequest(req, body)));
  return true;
}
