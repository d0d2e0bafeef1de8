/** Handshake message codecs (RFC 5246 §7.4), one file per message; re-exported for convenience. */
export * from './types.ts';
export * from './handshake.ts';
export * from './client-hello.ts';
export * from './server-hello.ts';
export * from './certificate.ts';
export * from './server-key-exchange.ts';
export * from './certificate-request.ts';
export * from './server-hello-done.ts';
export * from './client-key-exchange.ts';
export * from './certificate-verify.ts';
export * from './finished.ts';
export * from './new-session-ticket.ts';
export * from './extensions/index.ts';
