import ipaddr from 'ipaddr.js';
import { ConditionError, type IpNode, type LiteralNode } from './syntax';

// IP addresses for ip.src: one address, a CIDR range (10.0.0.0/8, 2001:db8::/32) or
// an explicit range (192.0.2.3..192.0.2.7), each as an inclusive span of numbers of
// one family. An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is its IPv4 address.

export interface Address {
  family: 4 | 6;
  value: bigint;
}

export interface AddressSpan {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

let lastText: string | undefined;
let lastAddress: Address | undefined;

/**
 * The address a request came from, or undefined when `text` is none (a missing value).
 * Every ip.src condition of a request asks about the same text, so the last answer is
 * kept: the address is parsed once per request (and once per client in a run).
 */
export function requestAddress(text: string): Address | undefined {
  if (text === lastText) return lastAddress;
  const address = ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text) ? toAddress(ipaddr.process(text)) : undefined;
  lastText = text;
  lastAddress = address;
  return address;
}

/** The span a literal of a set names: an address, a CIDR range or `from..to`. */
export function addressSpan(from: LiteralNode, to?: LiteralNode): AddressSpan {
  if (to === undefined) return cidrOrAddress(ipLiteral(from));
  const start = singleAddress(ipLiteral(from));
  const end = singleAddress(ipLiteral(to));
  if (start.family !== end.family) throw new ConditionError(`the range at column ${from.at + 1} mixes IPv4 and IPv6`, from.at);
  if (start.value > end.value) throw new ConditionError(`the range at column ${from.at + 1} ends before it starts`, from.at);
  return { family: start.family, first: start.value, last: end.value };
}

/** One address, for eq and ne (a CIDR range belongs in a set). */
export function singleAddress(node: IpNode): Address {
  if (node.text.includes('/')) {
    throw new ConditionError(`a CIDR range compares only with in: ip.src in {${node.text}} (column ${node.at + 1})`, node.at);
  }
  const text = node.text;
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) throw notAnAddress(node);
  return toAddress(ipaddr.process(text));
}

export function inSpan(address: Address, span: AddressSpan): boolean {
  return address.family === span.family && address.value >= span.first && address.value <= span.last;
}

function cidrOrAddress(node: IpNode): AddressSpan {
  if (!node.text.includes('/')) {
    const one = singleAddress(node);
    return { family: one.family, first: one.value, last: one.value };
  }
  const [base = ''] = node.text.split('/');
  if (!(ipaddr.IPv4.isValidFourPartDecimal(base) || ipaddr.IPv6.isValid(base)) || !ipaddr.isValidCIDR(node.text)) throw notAnAddress(node);
  let [network, prefix] = ipaddr.parseCIDR(node.text);
  if (network.kind() === 'ipv6' && (network as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    network = (network as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const address = toAddress(network);
  const width = address.family === 4 ? 32n : 128n;
  const hostBits = width - BigInt(prefix);
  const first = (address.value >> hostBits) << hostBits;
  return { family: address.family, first, last: first + (1n << hostBits) - 1n };
}

function ipLiteral(node: LiteralNode): IpNode {
  if (node.kind === 'ip') return node;
  throw new ConditionError(`ip.src compares with IP addresses and CIDR ranges, not ${node.kind === 'string' ? 'a string' : 'a number'} (column ${node.at + 1})`, node.at);
}

function toAddress(ip: ipaddr.IPv4 | ipaddr.IPv6): Address {
  let value = 0n;
  for (const byte of ip.toByteArray()) value = (value << 8n) | BigInt(byte);
  return { family: ip.kind() === 'ipv4' ? 4 : 6, value };
}

function notAnAddress(node: IpNode): ConditionError {
  return new ConditionError(`${node.text} at column ${node.at + 1} is not an IP address or CIDR range`, node.at);
}
