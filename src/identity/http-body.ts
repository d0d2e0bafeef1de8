/**
 * Bounded request-body reading for the node:http servers (DTA and relying party): a declared or
 * streamed size over the cap stops reading at once (the caller answers 413), so a peer cannot make
 * us buffer more than `max` bytes.
 */
import type { IncomingMessage } from 'node:http';

/** The body is larger than the cap (declared in content-length or seen while streaming). */
export class BodyTooLargeError extends Error {
  constructor(readonly max: number) {
    super(`the body is larger than ${max} bytes`);
  }
}

/** Reads a request body into a plain Uint8Array, refusing more than `max` bytes. */
export function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new BodyTooLargeError(max));
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
        reject(new BodyTooLargeError(max));
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

/** A fetch() response body as UTF-8 text, refusing more than `max` bytes (BodyTooLargeError; the rest is cancelled). */
export async function readResponseText(res: Response, max: number): Promise<string> {
  const body = res.body;
  if (body === null) return '';
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new BodyTooLargeError(max);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}
