/** Per-source accounting keys: the TLS server's limits, the Milagro worker pool's fair queue and the relying party's budgets count a source the same way. */

/**
 * The key per-source limits count under: the IPv4 address (also when IPv4-mapped), or the /64
 * prefix of an IPv6 address (what one subscriber is typically given, so per-address limits would
 * not bind).
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] as string;
  if (!address.includes(':')) return address;
  // Expand '::' so the first four groups are the /64.
  const [head = '', tail] = address.split('::', 2);
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, '')))
    .join(':')}::/64`;
}
