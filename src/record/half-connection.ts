/**
 * One direction of a connection (Go's `halfConn`, rustls's split record state): the current
 * protection, the pending one installed by the key schedule, and the 64-bit sequence number
 * (RFC 5246 §6.1), which restarts at 0 when the pending state becomes current at ChangeCipherSpec.
 */
import { AlertDescription, TlsError, UnexpectedMessageError } from '../alerts.ts';
import { nullProtection, type RecordProtection } from './protection.ts';

/** RFC 5246 §6.1: sequence numbers MUST NOT wrap; we stop one short of 2^64 - 1. */
export const MAX_SEQUENCE = (1n << 64n) - 1n;

export class HalfConnection {
  #current: RecordProtection = nullProtection;
  #pending: RecordProtection | undefined;
  #seq: bigint;

  /** `initialSeq` exists for tests of sequence exhaustion; real connections start at 0. */
  constructor(initialSeq = 0n) {
    this.#seq = initialSeq;
  }

  get protection(): RecordProtection {
    return this.#current;
  }

  get encrypted(): boolean {
    return this.#current !== nullProtection && this.#current.encrypted !== false;
  }

  get sequence(): bigint {
    return this.#seq;
  }

  setPending(p: RecordProtection): void {
    this.#pending = p;
  }

  /** Switch to the pending protection (RFC 5246 §7.1); a ChangeCipherSpec without keys is unexpected. */
  activate(): void {
    if (this.#pending === undefined) throw new UnexpectedMessageError('ChangeCipherSpec before keys were negotiated');
    this.#current.destroy?.();
    this.#current = this.#pending;
    this.#pending = undefined;
    this.#seq = 0n;
  }

  /** Wipe current and pending keys (connection closed); the half-connection is unusable afterwards. */
  destroy(): void {
    this.#current.destroy?.();
    this.#pending?.destroy?.();
    this.#pending = undefined;
  }

  /** The sequence number for the next record, then advance; refuses to wrap. */
  next(): bigint {
    const s = this.#seq;
    if (s >= MAX_SEQUENCE) {
      // Renegotiation is refused (RFC 5746 indication only), so the only safe way out is to close.
      throw new TlsError(AlertDescription.internal_error, 'record sequence number exhausted');
    }
    this.#seq = s + 1n;
    return s;
  }
}
