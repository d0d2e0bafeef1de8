/**
 * Injected randomness and time. Nothing in the library reads the global clock or RNG directly,
 * so vectors and recorded handshakes replay deterministically.
 */

/** Returns n fresh random bytes. */
export type RandomSource = (n: number) => Uint8Array;

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;

export const systemRandom: RandomSource = (n) => crypto.getRandomValues(new Uint8Array(n));

export const systemClock: Clock = () => Date.now();
