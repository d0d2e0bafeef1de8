/**
 * Child process for the cross-process atomicity tests: opens the store named in argv[2], waits for
 * "go" on stdin (so all children start together), then races on shared keys and prints a JSON
 * summary: how many setIfAbsent calls it won and the counter values it saw.
 */
import { openStore } from 'milagro-ts'; // this clone's dist/, through the exports map

const [spec, prefix, roundsText] = process.argv.slice(2);
if (spec === undefined || prefix === undefined || roundsText === undefined) throw new Error('usage: race-worker SPEC PREFIX ROUNDS');
const rounds = Number(roundsText);
const store = await openStore(spec, { prefix });
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();
let won = 0;
const counts = [];
for (let i = 0; i < rounds; i++) {
  const [w, c] = await Promise.all([store.setIfAbsent(`nonce:${i}`, String(process.pid), 60_000), store.increment('counter', 60_000)]);
  if (w) won++;
  counts.push(c);
}
await store.close();
process.stdout.write(`${JSON.stringify({ won, counts })}\n`);
