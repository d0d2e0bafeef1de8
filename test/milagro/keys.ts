/** MILAGRO_CS credentials issued by a single test authority (spec §5.2, §5.4) from a seeded RNG. */
import { clientSecretShare, dayOf, extractPin, hashId, masterSecretShare, serverSecretShare, timePermitShare } from '../../src/crypto/mpin.ts';
import { seededRandom } from '../handshake/fixtures.ts';

export interface CsKeys {
  readonly identity: string;
  readonly hashId: Uint8Array;
  readonly serverSecret: Uint8Array;
  readonly token: Uint8Array;
  readonly pin: number;
  readonly timePermit: Uint8Array;
  readonly date: number;
}

export function issueCsKeys(opts: { readonly identity?: string; readonly pin?: number; readonly now: number; readonly seed?: string; readonly permitDay?: number }): CsKeys {
  const identity = opts.identity ?? 'alice@example.org';
  const pin = opts.pin ?? 1234;
  const ms = masterSecretShare(seededRandom(opts.seed ?? 'test authority'));
  const id = new TextEncoder().encode(identity);
  const hid = hashId(id);
  const date = opts.permitDay ?? dayOf(opts.now);
  return {
    identity,
    hashId: hid,
    serverSecret: serverSecretShare(ms),
    token: extractPin(id, pin, clientSecretShare(ms, hid)),
    pin,
    timePermit: timePermitShare(ms, hid, date),
    date,
  };
}
