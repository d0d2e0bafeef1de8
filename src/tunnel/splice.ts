/**
 * Joins the accepted stream and the target stream in both directions with backpressure (pipe),
 * counts the bytes, and settles once both have closed with one close reason: whoever ended or
 * failed first, the idle timeout, or an abort (shutdown). When one side is gone the other is
 * ended (its pending data flushed) and destroyed after a short linger, so no socket outlives
 * its partner.
 */
import type { Duplex } from 'node:stream';
import { type CloseReason, describeError } from './reasons.ts';

export interface SpliceOptions {
  /** Close both sides after this long without data either way; 0 = never. */
  readonly idleTimeoutMs: number;
  /** How long the survivor may flush after its partner closed. */
  readonly lingerMs?: number;
  readonly onBytesIn?: (n: number) => void;
  readonly onBytesOut?: (n: number) => void;
}

export interface SpliceResult {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly reason: CloseReason;
  readonly detail?: string;
}

export interface Splice {
  readonly done: Promise<SpliceResult>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Ends both sides now with this reason (kept only if nothing else ended them first). */
  abort(reason: CloseReason, detail?: string): void;
}

export function splice(accepted: Duplex, target: Duplex, opts: SpliceOptions): Splice {
  let bytesIn = 0;
  let bytesOut = 0;
  let reason: CloseReason | undefined;
  let detail: string | undefined;
  const decide = (r: CloseReason, d?: string): void => {
    if (reason !== undefined) return;
    reason = r;
    detail = d;
  };
  const linger = opts.lingerMs ?? 2000;
  const idle =
    opts.idleTimeoutMs > 0
      ? setTimeout(() => {
          decide('idle_timeout', `no data either way for ${opts.idleTimeoutMs} ms`);
          accepted.destroy();
          target.destroy();
        }, opts.idleTimeoutMs)
      : undefined;
  idle?.unref();

  accepted.on('data', (d: Buffer) => {
    bytesIn += d.length;
    opts.onBytesIn?.(d.length);
    idle?.refresh();
  });
  target.on('data', (d: Buffer) => {
    bytesOut += d.length;
    opts.onBytesOut?.(d.length);
    idle?.refresh();
  });
  accepted.pipe(target);
  target.pipe(accepted);

  accepted.on('end', () => decide('peer_closed'));
  target.on('end', () => decide('target_closed'));
  accepted.on('error', (e: Error) => {
    decide('peer_error', describeError(e));
    target.destroy();
  });
  target.on('error', (e: Error) => {
    decide('target_error', describeError(e));
    accepted.destroy();
  });

  const closed = (s: Duplex): Promise<void> => new Promise((r) => (s.destroyed && s.closed ? r() : s.once('close', () => r())));
  const followUp = (gone: Duplex, other: Duplex): void => {
    gone.once('close', () => {
      if (other.destroyed) return;
      other.end();
      setTimeout(() => other.destroy(), linger).unref();
    });
  };
  followUp(accepted, target);
  followUp(target, accepted);

  const done = Promise.all([closed(accepted), closed(target)]).then((): SpliceResult => {
    if (idle !== undefined) clearTimeout(idle);
    return { bytesIn, bytesOut, reason: reason ?? 'closed', ...(detail !== undefined ? { detail } : {}) };
  });
  return {
    done,
    get bytesIn() {
      return bytesIn;
    },
    get bytesOut() {
      return bytesOut;
    },
    abort(r, d) {
      decide(r, d);
      accepted.destroy();
      target.destroy();
    },
  };
}
