import { isIPv6 } from 'node:net';

/** The 8 16-bit groups of a valid IPv6 address (zone already removed). */
function groups(address: string): number[] {
  let text = address;
  const last = text.lastIndexOf(':');
  const tail = text.slice(last + 1);
  if (tail.includes('.')) {
    // A trailing dotted IPv4 part stands for the last two groups.
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, last + 1)}${(a * 256 + b).toString(16)}:${(c * 256 + d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}

/**
 * The rate-limit key of a client address: an IPv4 address as it is (an
 * IPv4-mapped IPv6 address `::ffff:a.b.c.d` as its IPv4 address), an IPv6
 * address as its /56 network (`2001:db8:0:ab00::/56`), since one client
 * commonly holds a whole /64 or more and could rotate through it.
 */
export function addressKey(address: string): string {
  const percent = address.indexOf('%');
  const bare = percent === -1 ? address : address.slice(0, percent);
  if (!isIPv6(bare)) return address;
  const g = groups(bare);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const hi = g[6] ?? 0;
    const lo = g[7] ?? 0;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  // /56: the first three groups and the high byte of the fourth.
  return `${(g[0] ?? 0).toString(16)}:${(g[1] ?? 0).toString(16)}:${(g[2] ?? 0).toString(16)}:${((g[3] ?? 0) & 0xff00).toString(16)}::/56`;
}
