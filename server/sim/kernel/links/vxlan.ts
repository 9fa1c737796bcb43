// A VXLAN tunnel end (drivers/net/vxlan): Ethernet frames travel inside UDP
// datagrams to the remote end (or multicast group), and datagrams arriving
// on the tunnel's UDP port come out of the device with the matching VNI.
import { ETHERNET_LINK, type Device, type LinkKind } from '../device';
import { receiveFrame } from '../l2';
import { defaultTtl, ipOutput, routeOutput } from '../ipv4';
import type { NetNs } from '../netns';
import { frameBytes, type Frame, type Ipv4Packet } from '../packet';
import { udpBind, udpClose } from '../sockets';

/** The IANA port; the kernel's own default is the older Linux one. */
export const VXLAN_IANA_PORT = 4789;
export const VXLAN_KERNEL_DEFAULT_PORT = 8472;
/** Outer IPv4 (20), UDP (8) and VXLAN (8) headers; with the inner Ethernet header, 50 bytes of overhead. */
const OUTER_HEADERS = 36;
const VXLAN_HEADROOM = OUTER_HEADERS + 14;
/** net.ipv4.ip_local_port_range, where udp_flow_src_port picks source ports. */
const SRC_PORT_MIN = 32768;
const SRC_PORT_SPAN = 61000 - SRC_PORT_MIN;

/** udp_flow_src_port: a source port hashed from the inner flow, so one flow keeps one port. */
function flowSourcePort(frame: Frame): number {
  const key = frame.ip ? frame.ip.src ^ frame.ip.dst : frame.src ^ frame.dst;
  return SRC_PORT_MIN + (Math.abs(key) % SRC_PORT_SPAN);
}

/** vxlan_xmit: without a remote or group only fdb entries (not modelled) would say where a frame goes. */
function transmit(dev: Device, frame: Frame): void {
  const config = dev.vxlan!;
  const dst = config.remote ?? config.group;
  if (dst === null) return;
  const route = routeOutput(dev.ns, dst, config.underlay);
  if (!route.ok) {
    dev.stats.txDropped++;
    return;
  }
  ipOutput(dev.ns, {
    src: config.local ?? route.value.src,
    dst,
    ttl: defaultTtl(dev.ns),
    protocol: 'udp',
    length: OUTER_HEADERS + frameBytes(frame),
    ports: { sport: flowSourcePort(frame), dport: config.dstPort },
    elapsedUs: frame.ip?.elapsedUs ?? 0,
    vxlan: { vni: config.vni, frame },
  }, config.underlay);
}

/** vxlan_rcv: the frame comes out of the device with the datagram's VNI, carrying the time it spent in the tunnel. */
export function vxlanReceive(ns: NetNs, packet: Ipv4Packet): void {
  if (!packet.vxlan) return;
  const { vni, frame } = packet.vxlan;
  const dev = [...ns.devices.values()].find((d) => d.vxlan?.vni === vni && d.vxlan.dstPort === packet.ports!.dport && d.adminUp);
  if (!dev) return;
  receiveFrame(dev, frame.ip ? { ...frame, ip: { ...frame.ip, elapsedUs: packet.elapsedUs } } : frame);
}

/** vxlan_sock_add/release: a namespace holds one kernel UDP socket per port while a vxlan on it is up. */
export function syncVxlanSocket(ns: NetNs, port: number): void {
  const wanted = [...ns.devices.values()].some((d) => d.vxlan?.dstPort === port && d.adminUp);
  const socket = ns.sockets?.udp.find((u) => u.port === port && u.onEncapsulated);
  if (wanted && !socket) udpBind(ns, 0, port, '', { onEncapsulated: vxlanReceive });
  else if (!wanted && socket) udpClose(ns, socket);
}

export const vxlanKind: LinkKind = {
  name: 'vxlan',
  ...ETHERNET_LINK,
  noQueue: true,
  hasCarrier: () => true,
  operState: (dev) => (dev.adminUp ? 'UNKNOWN' : 'DOWN'),
  transmit,
};

/** A vxlan bound to an underlay leaves room for its headers within the underlay's MTU. */
export function vxlanMtu(underlay: Device | null): number {
  return underlay ? underlay.mtu - VXLAN_HEADROOM : vxlanKind.defaultMtu;
}
