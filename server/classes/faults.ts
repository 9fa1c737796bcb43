// Faults an instructor injects into a lab for a troubleshooting exercise,
// each translated into the commands a person would type to cause it. They run
// in the lab like anyone's commands, so the log, the replay and the activity
// feed all show them.
import type * as Y from 'yjs';
import { z } from 'zod';
import type { LabTopology } from '../../shared/dashboard';
import type { DeviceView, NamespaceView } from '../labs/projection';

const name = z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, 'letters, digits, _ . @ -, at most 15');
const host = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a host of the lab');
const ipv4 = '(?:(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)';
const prefix = z.string().regex(new RegExp(`^${ipv4}(?:/(?:3[0-2]|[12]?\\d))?$`), 'an IPv4 address with an optional /prefix');
const where = { host, ns: name.optional() };

export const Fault = z.discriminatedUnion('fault', [
  z.strictObject({ fault: z.literal('link_down'), ...where, device: name }),
  z.strictObject({ fault: z.literal('route_removed'), ...where, to: z.union([z.literal('default'), prefix]) }),
  /** Removes rule `rule` (1 = the first) of the nat table's POSTROUTING chain. */
  z.strictObject({ fault: z.literal('nat_removed'), ...where, rule: z.number().int().min(1).max(1000).default(1) }),
  z.strictObject({ fault: z.literal('forwarding_off'), ...where }),
  /** Replaces the device's addresses with a wrong one. */
  z.strictObject({ fault: z.literal('wrong_address'), ...where, device: name, address: prefix }),
]);
export type Fault = z.infer<typeof Fault>;

/** The command line that causes the fault, on `fault.host`. */
export function faultCommand(fault: Fault): string {
  const ip = fault.ns === undefined ? 'ip' : `ip -n ${fault.ns}`;
  const inNs = (line: string) => (fault.ns === undefined ? line : `ip netns exec ${fault.ns} ${line}`);
  switch (fault.fault) {
    case 'link_down':
      return `${ip} link set ${fault.device} down`;
    case 'route_removed':
      return `${ip} route del ${fault.to}`;
    case 'nat_removed':
      return inNs(`iptables -t nat -D POSTROUTING ${fault.rule}`);
    case 'forwarding_off':
      return inNs('sysctl -w net.ipv4.ip_forward=0');
    case 'wrong_address':
      return `${ip} addr flush dev ${fault.device} && ${ip} addr add ${fault.address} dev ${fault.device}`;
  }
}

/** What a fault can name in a lab, read from its state document. */
export function labTopology(hosts: readonly string[], state: Y.Doc): LabTopology {
  const namespaces = [...state.getMap<NamespaceView>('namespaces').entries()];
  const devices = [...state.getMap<DeviceView>('devices').values()].sort((a, b) => a.ifindex - b.ifindex);
  return {
    hosts: hosts.map((host) => ({
      host,
      namespaces: namespaces
        .filter(([, ns]) => ns.host === host)
        .sort(([, a], [, b]) => (a.name === null ? -1 : b.name === null ? 1 : a.name.localeCompare(b.name)))
        .map(([key, ns]) => ({
          name: ns.name,
          devices: devices.filter((d) => d.ns === key).map((d) => d.name),
          routes: [...new Set(ns.routes.map((r) => r.dst))],
          natRules: ns.netfilter.nat?.POSTROUTING?.rules ?? [],
        })),
    })),
  };
}
