/**
 * Fastify adapter for the relying party.
 *
 * Why Fastify (over Express): it ships its own TypeScript types (Express needs @types/express),
 * and its encapsulated plugins let us register a raw-body parser for our routes only, so the host
 * application's JSON parser and body limits stay untouched while the relying party sees the exact
 * bytes and applies its own strict parsing. Only types are imported: the application brings Fastify.
 *
 *   await app.register(mpinFastify(rp));
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelyingParty } from './relying-party.ts';

export function mpinFastify(rp: RelyingParty): (app: FastifyInstance) => Promise<void> {
  // Not wrapped in fastify-plugin on purpose: the content-type parsers below stay inside this scope.
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: rp.maxBodyBytes }, (_req, body, done) => done(null, body));
    const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const raw = req.body;
      const body = raw instanceof Uint8Array ? new Uint8Array(raw.buffer, raw.byteOffset, raw.length).slice() : new Uint8Array(0);
      const r = await rp.handle({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
        remoteAddress: req.socket.remoteAddress ?? '',
        secure: req.protocol === 'https',
      });
      void reply.code(r.status);
      for (const [k, v] of Object.entries(r.headers)) void reply.header(k, typeof v === 'string' ? v : [...v]);
      void reply.send(r.body);
    };
    app.all(rp.prefix, handler);
    app.all(`${rp.prefix}/*`, handler);
  };
}
