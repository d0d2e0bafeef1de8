/**
 * `milagro-ts/web/fastify`: the relying party as a Fastify plugin. A separate entry point because
 * its types come from Fastify, which the application brings (optional peer dependency).
 *
 *   await app.register(mpinFastify(rp));
 */
export { mpinFastify } from './server/fastify.ts';
