/** Shared helpers for record-layer tests: the milagro-tls recordings and a seeded PRNG. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface RecordedRecord {
  readonly index: number;
  readonly direction: 'client_to_server' | 'server_to_client';
  readonly content_type: number;
  readonly record_version: string;
  readonly length: number;
  readonly record_hex: string;
  readonly encrypted: boolean;
  readonly plaintext_hex?: string;
  readonly sequence_number?: number;
  readonly aead_additional_data?: string;
  readonly handshake_messages?: readonly { readonly hex: string }[];
}

export interface RecordedTranscript {
  readonly name: string;
  readonly ciphersuite_id: string;
  readonly records: readonly RecordedRecord[];
  readonly debug_output_values: {
    readonly client_random: string;
    readonly server_random: string;
    readonly premaster_secret_client: string;
    readonly master_secret_client: string;
    readonly master_secret_server: string;
    readonly key_block_256: string;
    readonly finished_verify_data_client_log: readonly string[];
    readonly derived_keys?: {
      readonly client_write_key: string;
      readonly server_write_key: string;
      readonly client_write_iv_salt: string;
      readonly server_write_iv_salt: string;
    };
  };
}

export function loadTranscripts(): readonly RecordedTranscript[] {
  const path = fileURLToPath(new URL('../vectors/tls-transcripts.json', import.meta.url));
  const json = JSON.parse(readFileSync(path, 'utf8')) as { transcripts: RecordedTranscript[] };
  return json.transcripts;
}

/** Transcripts that reached the encrypted phase (cs_wrong_pin_rejected did not). */
export function encryptedTranscripts(): readonly (RecordedTranscript & { debug_output_values: { derived_keys: NonNullable<RecordedTranscript['debug_output_values']['derived_keys']> } })[] {
  return loadTranscripts().filter(
    (t): t is RecordedTranscript & { debug_output_values: { derived_keys: NonNullable<RecordedTranscript['debug_output_values']['derived_keys']> } } =>
      t.debug_output_values.derived_keys !== undefined,
  );
}

/** xorshift32: deterministic bytes for fuzzing. */
export { xorshift32 as seededRandom } from '../helpers/random.ts';
