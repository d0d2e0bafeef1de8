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
import type { RelyingParty, RpRequest, RpResponse } from './relying-party.ts';

class TooLarge extends Error {}

/** Reads a request body into a plain Uint8Array, refusing more than `max` bytes. */
export function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new TooLarge());
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        req.pause();
        reject(new TooLarge());
        return;
      }
      parts.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length).slice());
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const out = new Uint8Array(size);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      resolve(out);
    });
  });
}

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
    if (!(e instanceof TooLarge)) {
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
