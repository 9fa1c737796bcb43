// The namespace's /proc/sys/net: the handful of knobs a networking lab
// touches, with the kernel's defaults, ranges and side effects.
import { fail, OK, type KResult } from './errno';
import type { NetNs } from './netns';
import { ipv6DisableChanged } from './address';

interface Knob {
  default: string;
  /** Integer knobs accept only integers, within [min, max] when given. */
  integer?: { min?: number; max?: number };
}

const GLOBAL_KNOBS: Record<string, Knob> = {
  'net.ipv4.icmp_echo_ignore_all': { default: '0', integer: { min: 0, max: 1 } },
  'net.ipv4.icmp_echo_ignore_broadcasts': { default: '1', integer: { min: 0, max: 1 } },
  'net.ipv4.icmp_ratelimit': { default: '1000', integer: { min: 0 } },
  'net.ipv4.icmp_ratemask': { default: '6168', integer: {} },
  'net.ipv4.ip_default_ttl': { default: '64', integer: { min: 1, max: 255 } },
  'net.ipv4.ip_forward': { default: '0', integer: {} },
  'net.ipv4.ip_forward_update_priority': { default: '1', integer: { min: 0, max: 1 } },
  'net.ipv4.ip_forward_use_pmtu': { default: '0', integer: { min: 0, max: 1 } },
  'net.ipv4.ip_local_port_range': { default: '32768\t60999' },
  'net.ipv4.ping_group_range': { default: '1\t0' },
  'net.ipv6.conf.all.forwarding': { default: '0', integer: { min: 0, max: 1 } },
  // br_netfilter, loaded on the kernel the scenarios were recorded on: bridged traffic passes iptables.
  'net.bridge.bridge-nf-call-arptables': { default: '1', integer: {} },
  'net.bridge.bridge-nf-call-ip6tables': { default: '1', integer: {} },
  'net.bridge.bridge-nf-call-iptables': { default: '1', integer: {} },
  'net.bridge.bridge-nf-filter-pppoe-tagged': { default: '0', integer: {} },
  'net.bridge.bridge-nf-filter-vlan-tagged': { default: '0', integer: {} },
  'net.bridge.bridge-nf-pass-vlan-input-dev': { default: '0', integer: {} },
};

/** Every key of net/ipv4/conf/DEV, with a fresh device's values. */
const IPV4_CONF_KNOBS: Record<string, Knob> = {
  accept_local: { default: '0', integer: {} },
  accept_redirects: { default: '1', integer: {} },
  accept_source_route: { default: '1', integer: {} },
  arp_accept: { default: '0', integer: {} },
  arp_announce: { default: '0', integer: {} },
  arp_evict_nocarrier: { default: '1', integer: {} },
  arp_filter: { default: '0', integer: {} },
  arp_ignore: { default: '0', integer: {} },
  arp_notify: { default: '0', integer: {} },
  bc_forwarding: { default: '0', integer: {} },
  bootp_relay: { default: '0', integer: {} },
  disable_policy: { default: '0', integer: {} },
  disable_xfrm: { default: '0', integer: {} },
  drop_gratuitous_arp: { default: '0', integer: {} },
  drop_unicast_in_l2_multicast: { default: '0', integer: {} },
  force_igmp_version: { default: '0', integer: {} },
  forwarding: { default: '0', integer: {} },
  igmpv2_unsolicited_report_interval: { default: '10000', integer: {} },
  igmpv3_unsolicited_report_interval: { default: '1000', integer: {} },
  ignore_routes_with_linkdown: { default: '0', integer: {} },
  log_martians: { default: '0', integer: {} },
  mc_forwarding: { default: '0', integer: {} },
  medium_id: { default: '0', integer: {} },
  promote_secondaries: { default: '0', integer: {} },
  proxy_arp: { default: '0', integer: {} },
  proxy_arp_pvlan: { default: '0', integer: {} },
  route_localnet: { default: '0', integer: {} },
  rp_filter: { default: '0', integer: { min: 0, max: 3 } },
  secure_redirects: { default: '1', integer: {} },
  send_redirects: { default: '1', integer: {} },
  shared_media: { default: '1', integer: {} },
  src_valid_mark: { default: '0', integer: {} },
  tag: { default: '0', integer: {} },
};

/** Where a scope's value differs from a fresh device's: lo skips IPsec policy; `all` refuses source routing. */
const SCOPE_DEFAULTS: Record<string, Record<string, string>> = {
  lo: { disable_policy: '1', disable_xfrm: '1' },
  all: { accept_source_route: '0' },
};

const IPV6_CONF_KNOBS: Record<string, Knob> = {
  disable_ipv6: { default: '0', integer: {} },
  forwarding: { default: '0', integer: {} },
};

const IPV4_CONF_PREFIX = 'net.ipv4.conf.';

export class SysctlTable {
  private readonly values = new Map<string, string>();
  /** The net.ipv4.conf params ever written, in any scope (made on the first): the others read as their defaults without a lookup. */
  private writtenIpv4Conf: Set<string> | null = null;

  constructor(private readonly ns: NetNs) {}

  private knob(key: string): Knob | undefined {
    const global = GLOBAL_KNOBS[key];
    if (global) return global;
    const m = /^net\.ipv([46])\.conf\.([^.]+)\.([a-z_0-9]+)$/.exec(key);
    if (!m) return undefined;
    const [, family, scope, param] = m;
    if (scope !== 'all' && scope !== 'default' && !this.ns.device(scope!)) return undefined;
    return (family === '4' ? IPV4_CONF_KNOBS : IPV6_CONF_KNOBS)[param!];
  }

  /** Every key, in the order `sysctl -a` walks them. */
  keys(): string[] {
    const keys = Object.keys(GLOBAL_KNOBS);
    const scopes = ['all', 'default', ...[...this.ns.byName.keys()]];
    for (const scope of scopes) {
      for (const param of Object.keys(IPV4_CONF_KNOBS)) keys.push(`net.ipv4.conf.${scope}.${param}`);
      if (scope !== 'all') for (const param of Object.keys(IPV6_CONF_KNOBS)) keys.push(`net.ipv6.conf.${scope}.${param}`);
    }
    keys.push('net.ipv6.conf.all.disable_ipv6');
    return [...new Set(keys)].sort();
  }

  has(key: string): boolean {
    return this.knob(key) !== undefined;
  }

  get(key: string): string | undefined {
    const knob = this.knob(key);
    if (!knob) return undefined;
    const value = this.values.get(key);
    if (value !== undefined) return value;
    if (key === 'net.ipv4.conf.all.forwarding') return this.get('net.ipv4.ip_forward');
    const m = /^net\.ipv([46])\.conf\.([^.]+)\.([a-z_0-9]+)$/.exec(key);
    return m ? this.unsetConf(m[1]!, m[2]!, m[3]!, knob) : knob.default;
  }

  /**
   * An IPv4 conf value of an existing scope (a device, `all`, `default`)
   * without parsing a key, for checks made on every packet. Not for
   * `forwarding`, which `forwardingOn` answers.
   */
  ipv4Conf(scope: string, param: string): string {
    const knob = IPV4_CONF_KNOBS[param]!;
    if (!this.writtenIpv4Conf?.has(param)) return SCOPE_DEFAULTS[scope]?.[param] ?? knob.default;
    return this.values.get(`${IPV4_CONF_PREFIX}${scope}.${param}`) ?? this.unsetConf('4', scope, param, knob);
  }

  /** A conf value never written for `scope`: a device inherits default's, else the scope's own default or a fresh device's. */
  private unsetConf(family: string, scope: string, param: string, knob: Knob): string {
    if (scope !== 'all' && scope !== 'default') {
      const inherited = this.values.get(`net.ipv${family}.conf.default.${param}`);
      if (inherited !== undefined) return inherited;
    }
    return (family === '4' ? SCOPE_DEFAULTS[scope]?.[param] : undefined) ?? knob.default;
  }

  set(key: string, raw: string): KResult {
    const knob = this.knob(key);
    if (!knob) return fail('ENOENT');
    let value = raw.trim();
    if (knob.integer) {
      if (!/^-?\d+$/.test(value)) return fail('EINVAL');
      const n = Number(value);
      if ((knob.integer.min !== undefined && n < knob.integer.min) || (knob.integer.max !== undefined && n > knob.integer.max)) {
        return fail('EINVAL');
      }
      value = String(n);
    } else {
      value = value.split(/\s+/).join('\t');
    }
    if (key === 'net.ipv4.ip_forward' || key === 'net.ipv4.conf.all.forwarding') {
      // devinet_sysctl_forward: changing the global switch rewrites every device's; writing the value it has changes nothing.
      if (this.get('net.ipv4.ip_forward') === value) return OK;
      this.values.set('net.ipv4.ip_forward', value);
      this.values.delete('net.ipv4.conf.all.forwarding');
      this.values.set('net.ipv4.conf.default.forwarding', value);
      for (const name of this.ns.byName.keys()) this.values.set(`net.ipv4.conf.${name}.forwarding`, value);
      // inet_forward_change: a router takes no redirects.
      this.values.set('net.ipv4.conf.all.accept_redirects', value === '0' ? '1' : '0');
      (this.writtenIpv4Conf ??= new Set()).add('accept_redirects');
      return OK;
    }
    const ipv6Switch = /^net\.ipv6\.conf\.([^.]+)\.(forwarding|disable_ipv6)$/.exec(key);
    if (ipv6Switch?.[1] === 'all') {
      // addrconf_fixup_forwarding, addrconf_disable_ipv6: all's switch rewrites default's and every device's.
      this.values.set(`net.ipv6.conf.default.${ipv6Switch[2]}`, value);
      for (const name of this.ns.byName.keys()) this.values.set(`net.ipv6.conf.${name}.${ipv6Switch[2]}`, value);
    }
    this.values.set(key, value);
    if (ipv6Switch?.[2] === 'disable_ipv6' && ipv6Switch[1] !== 'default') {
      for (const dev of this.ns.devices.values()) if (ipv6Switch[1] === 'all' || dev.name === ipv6Switch[1]) ipv6DisableChanged(dev);
    }
    if (key.startsWith(IPV4_CONF_PREFIX)) (this.writtenIpv4Conf ??= new Set()).add(key.slice(key.lastIndexOf('.') + 1));
    return OK;
  }

  /** A device's conf values follow it across a rename and vanish with it. */
  renameDevice(from: string, to: string | null): void {
    for (const [key, value] of [...this.values]) {
      const m = /^(net\.ipv[46]\.conf\.)([^.]+)(\..*)$/.exec(key);
      if (m && m[2] === from) {
        this.values.delete(key);
        if (to !== null) this.values.set(m[1] + to + m[3], value);
      }
    }
  }

  /** Forwarding as the routing decision sees it for packets arriving on `dev`. */
  forwardingOn(devName: string): boolean {
    return this.get(`net.ipv4.conf.${devName}.forwarding`) !== '0';
  }
}
