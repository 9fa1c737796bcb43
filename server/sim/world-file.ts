// World files (../docs/world-format in the README): parsed raw with a schema,
// then built into a running World. A wrong file is refused naming the field.
import { z } from 'zod';
import { parseIpv4Strict } from './kernel/addr';
import { addIpv4Address } from './kernel/address';
import { dadSettle } from './kernel/ipv6';
import { createEther, createLoopback, setLinkUp } from './kernel/link';
import { World } from './kernel/world';
import { Lab } from './lab';

const addressText = z.string().refine((text) => {
  const [addr, len, ...rest] = text.split('/');
  return rest.length === 0 && parseIpv4Strict(addr ?? '') !== null && (len === undefined || (/^\d+$/.test(len) && Number(len) <= 32));
}, 'must be an IPv4 address with an optional /prefix, like 192.168.1.2/24');

const hostSchema = z.strictObject({
  interfaces: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a valid interface name'), z.strictObject({ segment: z.string(), address: addressText.optional() })).default({}),
  routes: z.array(z.string()).default([]),
  sysctl: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
  setup: z.array(z.string()).default([]),
});

export const worldSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  segments: z.array(z.string().min(1)),
  hosts: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'host names are letters, digits, - and _'), hostSchema),
});

export type WorldSpec = z.infer<typeof worldSchema>;

export class WorldFileError extends Error {}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

export function parseWorld(raw: unknown): WorldSpec {
  const parsed = worldSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WorldFileError(`world file: ${pathText(issue.path) || '(top level)'}: ${issue.message}`);
  }
  const spec = parsed.data;
  const segments = new Set<string>();
  for (const seg of spec.segments) {
    if (segments.has(seg)) throw new WorldFileError(`world file: segments: duplicate segment "${seg}"`);
    segments.add(seg);
  }
  for (const [host, h] of Object.entries(spec.hosts)) {
    for (const [ifname, nic] of Object.entries(h.interfaces)) {
      if (!segments.has(nic.segment)) throw new WorldFileError(`world file: hosts.${host}.interfaces.${ifname}.segment: unknown segment "${nic.segment}"`);
      if (ifname === 'lo') throw new WorldFileError(`world file: hosts.${host}.interfaces.lo: lo is every host's own loopback`);
    }
  }
  return spec;
}

/** Builds the lab a world file describes: NICs, addresses, sysctls, routes, then setup lines. */
export function buildLab(spec: WorldSpec, seed = 1): Lab {
  const world = new World(seed);
  for (const seg of spec.segments) world.addSegment(seg);
  const lab = new Lab(world);
  for (const [name, h] of Object.entries(spec.hosts)) {
    const host = world.addHost(name);
    setLinkUp(createLoopback(host.root));
    for (const [ifname, nic] of Object.entries(h.interfaces)) {
      const dev = createEther(host.root, ifname, world.segments.get(nic.segment)!);
      setLinkUp(dev);
      if (nic.address) {
        const [addr, len] = nic.address.split('/');
        addIpv4Address(dev, parseIpv4Strict(addr!)!, len === undefined ? 32 : Number(len));
      }
    }
  }
  for (const [name, h] of Object.entries(spec.hosts)) {
    const root = world.hosts.get(name)!.root;
    for (const [key, value] of Object.entries(h.sysctl)) {
      const r = root.sysctl.set(key, String(value));
      if (!r.ok) throw new WorldFileError(`world file: hosts.${name}.sysctl.${key}: ${r.errno === 'ENOENT' ? 'unknown key' : 'invalid value'}`);
    }
  }
  for (const [name, h] of Object.entries(spec.hosts)) {
    h.routes.forEach((route, i) => {
      const r = lab.run(name, `ip route add ${route}`);
      if (r.exitCode !== 0) throw new WorldFileError(`world file: hosts.${name}.routes[${i}]: ${r.output.trim()}`);
    });
  }
  for (const [name, h] of Object.entries(spec.hosts)) {
    h.setup.forEach((line, i) => {
      const r = lab.run(name, line);
      if (r.exitCode !== 0) throw new WorldFileError(`world file: hosts.${name}.setup[${i}]: ${r.output.trim() || `exit ${r.exitCode}`}`);
    });
  }
  // The machines have been up a while: their addresses are past duplicate address detection.
  for (const host of world.hosts.values()) for (const ns of host.allNamespaces()) dadSettle(ns);
  return lab;
}
