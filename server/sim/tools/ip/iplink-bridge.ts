// `ip link … type bridge` and `type bridge_slave` (iproute2's iplink_bridge.c
// and iplink_bridge_slave.c): a bridge's settings and a port's.
import { isPortFlag, type BridgeSetting } from '../../kernel/device';
import type { BridgeChange, PortChange } from '../../kernel/links/bridge';
import { parseMac } from '../../kernel/addr';
import type { ProcContext } from '../process';
import { parseU32 } from './iproute';
import { fatal, invarg, matches, nextArg } from './utils';

const BRIDGE_USAGE = `Usage: ... bridge [ fdb_flush ]
		  [ forward_delay FORWARD_DELAY ]
		  [ hello_time HELLO_TIME ]
		  [ max_age MAX_AGE ]
		  [ ageing_time AGEING_TIME ]
		  [ stp_state STP_STATE ]
		  [ priority PRIORITY ]
		  [ group_fwd_mask MASK ]
		  [ group_address ADDRESS ]
		  [ no_linklocal_learn NO_LINKLOCAL_LEARN ]
		  [ vlan_filtering VLAN_FILTERING ]
		  [ vlan_protocol VLAN_PROTOCOL ]
		  [ vlan_default_pvid VLAN_DEFAULT_PVID ]
		  [ vlan_stats_enabled VLAN_STATS_ENABLED ]
		  [ vlan_stats_per_port VLAN_STATS_PER_PORT ]
		  [ mcast_snooping MULTICAST_SNOOPING ]
		  [ mcast_vlan_snooping MULTICAST_VLAN_SNOOPING ]
		  [ mcast_router MULTICAST_ROUTER ]
		  [ mcast_query_use_ifaddr MCAST_QUERY_USE_IFADDR ]
		  [ mcast_querier MULTICAST_QUERIER ]
		  [ mcast_hash_elasticity HASH_ELASTICITY ]
		  [ mcast_hash_max HASH_MAX ]
		  [ mcast_last_member_count LAST_MEMBER_COUNT ]
		  [ mcast_startup_query_count STARTUP_QUERY_COUNT ]
		  [ mcast_last_member_interval LAST_MEMBER_INTERVAL ]
		  [ mcast_membership_interval MEMBERSHIP_INTERVAL ]
		  [ mcast_querier_interval QUERIER_INTERVAL ]
		  [ mcast_query_interval QUERY_INTERVAL ]
		  [ mcast_query_response_interval QUERY_RESPONSE_INTERVAL ]
		  [ mcast_startup_query_interval STARTUP_QUERY_INTERVAL ]
		  [ mcast_stats_enabled MCAST_STATS_ENABLED ]
		  [ mcast_igmp_version IGMP_VERSION ]
		  [ mcast_mld_version MLD_VERSION ]
		  [ nf_call_iptables NF_CALL_IPTABLES ]
		  [ nf_call_ip6tables NF_CALL_IP6TABLES ]
		  [ nf_call_arptables NF_CALL_ARPTABLES ]

Where: VLAN_PROTOCOL := { 802.1Q | 802.1ad }`;

/** The numeric settings `type bridge` takes, in iplink_bridge.c's order of matching, with their width in bits. */
const BRIDGE_ARGS: Array<[BridgeSetting | 'vlan_filtering', 8 | 16 | 32 | 64]> = [
  ['forward_delay', 32], ['hello_time', 32], ['max_age', 32], ['ageing_time', 32], ['stp_state', 32], ['priority', 16], ['vlan_filtering', 8],
  ['group_fwd_mask', 16], ['mcast_router', 8], ['mcast_snooping', 8], ['mcast_vlan_snooping', 8], ['mcast_query_use_ifaddr', 8], ['mcast_querier', 8],
  ['mcast_hash_elasticity', 32], ['mcast_hash_max', 32], ['mcast_last_member_count', 32], ['mcast_startup_query_count', 32],
  ['mcast_last_member_interval', 64], ['mcast_membership_interval', 64], ['mcast_querier_interval', 64], ['mcast_query_interval', 64],
  ['mcast_query_response_interval', 64], ['mcast_startup_query_interval', 64], ['mcast_stats_enabled', 8], ['mcast_igmp_version', 8],
  ['mcast_mld_version', 8], ['nf_call_iptables', 8], ['nf_call_ip6tables', 8], ['nf_call_arptables', 8], ['no_linklocal_learn', 8],
];

/** get_u8/get_u16/get_u32/get_u64 with base 0. */
function parseUnsigned(text: string, bits: 8 | 16 | 32 | 64): number | null {
  const value = bits === 64 && /^[1-9]\d*$/.test(text) ? Number(text) : parseU32(text);
  return value !== null && (bits >= 32 || value < 2 ** bits) ? value : null;
}

/** iplink_bridge.c: what `type bridge` asks of the kernel. */
export function parseBridgeArgs(ctx: ProcContext, args: string[]): BridgeChange {
  const change: BridgeChange = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const numeric = BRIDGE_ARGS.find(([name]) => matches(a, name));
    if (numeric) {
      const [name, bits] = numeric;
      const v = nextArg(ctx, args, i++);
      change[name] = parseUnsigned(v, bits) ?? invarg(ctx, `invalid ${name}`, v);
    } else if (matches(a, 'group_address')) {
      const v = nextArg(ctx, args, i++);
      change.group_address = parseMac(v) ?? invarg(ctx, 'invalid group_address', v);
    } else if (matches(a, 'fdb_flush')) change.fdb_flush = 1;
    else fatal(ctx, `${matches(a, 'help') ? '' : `bridge: unknown command "${a}"?\n`}${BRIDGE_USAGE}`, 1);
  }
  return change;
}

const BRIDGE_SLAVE_USAGE = `Usage: ... bridge_slave [ fdb_flush ]
			[ state STATE ]
			[ priority PRIO ]
			[ cost COST ]
			[ guard {on | off} ]
			[ hairpin {on | off} ]
			[ fastleave {on | off} ]
			[ root_block {on | off} ]
			[ learning {on | off} ]
			[ flood {on | off} ]
			[ proxy_arp {on | off} ]
			[ proxy_arp_wifi {on | off} ]
			[ mcast_router MULTICAST_ROUTER ]
			[ mcast_fast_leave {on | off} ]
			[ mcast_flood {on | off} ]
			[ bcast_flood {on | off} ]
			[ mcast_to_unicast {on | off} ]
			[ group_fwd_mask MASK ]
			[ neigh_suppress {on | off} ]
			[ vlan_tunnel {on | off} ]
			[ isolated {on | off} ]
			[ locked {on | off} ]
			[ backup_port DEVICE ] [ nobackup_port ]`;

/** iplink_bridge_slave.c: the port settings a bridge of veths has (flags, state, cost, priority, multicast router). */
export function parseBridgeSlaveArgs(ctx: ProcContext, args: string[]): PortChange {
  const change: PortChange = { flags: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // mcast_fast_leave is the fastleave flag under another name.
    const flag = a === 'mcast_fast_leave' ? 'fastleave' : a;
    if (isPortFlag(flag)) {
      const v = nextArg(ctx, args, i++);
      if (v !== 'on' && v !== 'off') fatal(ctx, `Error: argument of "${a}" must be one of "off", "on", not "${v}"`, 1);
      change.flags[flag] = v === 'on';
    } else if (a === 'cost') {
      const v = nextArg(ctx, args, i++);
      if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) invarg(ctx, 'cost is invalid', v);
      change.cost = Number(v);
    } else if (a === 'priority') {
      const v = nextArg(ctx, args, i++);
      if (!/^\d+$/.test(v) || Number(v) > 0xffff) invarg(ctx, 'priority is invalid', v);
      change.priority = Number(v);
    } else if (a === 'state' || a === 'mcast_router') {
      const v = nextArg(ctx, args, i++);
      if (!/^\d+$/.test(v) || Number(v) > 0xff) invarg(ctx, `${a} is invalid`, v);
      if (a === 'state') change.state = Number(v);
      else change.mcastRouter = Number(v);
    } else fatal(ctx, `${matches(a, 'help') ? '' : `bridge_slave: unknown option "${a}"?\n`}${BRIDGE_SLAVE_USAGE}`, 1);
  }
  return change;
}

