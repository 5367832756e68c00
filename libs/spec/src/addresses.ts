import { isIP } from 'node:net';

/** An IPv4 or IPv6 address in canonical numeric form, with its family width in bits. */
interface ParsedAddress {
  bits: 32 | 128;
  value: bigint;
}

export interface Cidr {
  network: ParsedAddress;
  prefix: number;
}

export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0;
}

function parseAddress(text: string): ParsedAddress | undefined {
  const family = isIP(text);
  if (family === 4) {
    const value = text.split('.').reduce((acc, octet) => (acc << 8n) + BigInt(Number(octet)), 0n);
    return { bits: 32, value };
  }
  if (family === 6) {
    const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
    const groups = (part: string | undefined): string[] => (part ? part.split(':') : []);
    const expand = (part: string[]): string[] =>
      part.flatMap((g) => {
        // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two 16-bit groups.
        if (!g.includes('.')) return [g];
        const v4 = parseAddress(g);
        if (!v4) return ['0', '0'];
        return [(v4.value >> 16n).toString(16), (v4.value & 0xffffn).toString(16)];
      });
    const left = expand(groups(head));
    const right = tail === undefined ? [] : expand(groups(tail));
    const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
    const all = [...left, ...fill, ...right];
    return { bits: 128, value: all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n) };
  }
  return undefined;
}

/** Parses `address/prefix`; undefined when either part is malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const network = parseAddress(match[1]);
  const prefix = Number(match[2]);
  if (!network || prefix > network.bits) return undefined;
  return { network, prefix };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

export function cidrContains(cidr: Cidr, addressText: string): boolean {
  const address = parseAddress(addressText);
  if (!address || address.bits !== cidr.network.bits) return false;
  const shift = BigInt(cidr.network.bits - cidr.prefix);
  return address.value >> shift === cidr.network.value >> shift;
}

/** Same address written differently (e.g. IPv6 zero compression) compares equal. */
export function canonicalAddress(text: string): string {
  const parsed = parseAddress(text);
  return parsed ? `${parsed.bits}:${parsed.value.toString(16)}` : text;
}

/** The network of a CIDR in plain form: `192.168.24.11/24` → `192.168.24.0/24` (IPv6 uncompressed). */
export function formatCidr(cidr: Cidr): string {
  const { bits, value } = cidr.network;
  const shift = BigInt(bits - cidr.prefix);
  const network = (value >> shift) << shift;
  const parts = bits === 32 ? [24n, 16n, 8n, 0n].map((s) => ((network >> s) & 0xffn).toString(10)) : [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((network >> s) & 0xffffn).toString(16));
  return `${parts.join(bits === 32 ? '.' : ':')}/${cidr.prefix}`;
}
