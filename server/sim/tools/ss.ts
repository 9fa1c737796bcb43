// `ss` (iproute2): TCP and UDP sockets of a namespace, in ss's columns.
import { formatIpv4 } from '../kernel/addr';
import type { NetNs } from '../kernel/netns';
import type { TcpState } from '../kernel/sockets';
import { program, type ProcContext } from './process';
import { serviceName } from './services';

export interface SocketRow {
  netid: 'tcp' | 'udp';
  state: string;
  recvQ: number;
  sendQ: number;
  localAddr: string;
  localPort: number;
  peerAddr: string;
  peerPort: number | null;
  program: string;
}

const STATE_NAMES: Record<TcpState, string> = {
  'SYN-SENT': 'SYN-SENT',
  'SYN-RECV': 'SYN-RECV',
  ESTABLISHED: 'ESTAB',
  'FIN-WAIT-1': 'FIN-WAIT-1',
  'FIN-WAIT-2': 'FIN-WAIT-2',
  'CLOSE-WAIT': 'CLOSE-WAIT',
  'LAST-ACK': 'LAST-ACK',
  'TIME-WAIT': 'TIME-WAIT',
  CLOSED: 'UNCONN',
};

/** The names `state FILTER` accepts. */
const STATE_FILTERS: Record<string, string[]> = {
  established: ['ESTAB'],
  listening: ['LISTEN', 'UNCONN'],
  'time-wait': ['TIME-WAIT'],
  'syn-sent': ['SYN-SENT'],
  'syn-recv': ['SYN-RECV'],
  'fin-wait-1': ['FIN-WAIT-1'],
  'fin-wait-2': ['FIN-WAIT-2'],
  'close-wait': ['CLOSE-WAIT'],
  'last-ack': ['LAST-ACK'],
  closed: ['UNCONN'],
};

/** The namespace's TCP and UDP sockets with ss's state names. */
export function socketRows(ns: NetNs): SocketRow[] {
  const table = ns.sockets;
  if (!table) return [];
  const out: SocketRow[] = [];
  for (const u of table.udp) {
    const peer = u.peer ? { state: 'ESTAB', peerAddr: formatIpv4(u.peer.addr), peerPort: u.peer.port } : { state: 'UNCONN', peerAddr: '0.0.0.0', peerPort: null };
    out.push({ netid: 'udp', recvQ: 0, sendQ: 0, localAddr: formatIpv4(u.addr), localPort: u.port, program: u.program, ...peer });
  }
  for (const l of table.tcpListeners) out.push({ netid: 'tcp', state: 'LISTEN', recvQ: 0, sendQ: l.backlog, localAddr: formatIpv4(l.addr), localPort: l.port, peerAddr: '0.0.0.0', peerPort: null, program: l.program });
  for (const c of table.tcp.values()) {
    out.push({ netid: 'tcp', state: STATE_NAMES[c.state], recvQ: 0, sendQ: 0, localAddr: formatIpv4(c.local.addr), localPort: c.local.port, peerAddr: formatIpv4(c.remote.addr), peerPort: c.remote.port, program: c.state === 'TIME-WAIT' ? '' : c.program });
  }
  return out;
}

function run(ctx: ProcContext, argv: string[]): number {
  let tcp = false;
  let udp = false;
  let listening = false;
  let all = false;
  let numeric = false;
  let processes = false;
  let showHeader = true;
  let ns = ctx.ns;
  const filters: Array<(r: SocketRow) => boolean> = [];
  let stateFilter: string[] | null = null;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-N' || a === '--net') {
      const name = args[++i] ?? '';
      const target = ctx.host.namespaces.get(name);
      if (!target) {
        ctx.stderr.write(`Cannot open network namespace "${name}": No such file or directory\n`);
        return 1;
      }
      ns = target;
    } else if (/^-[a-zA-Z]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 't') tcp = true;
        else if (f === 'u') udp = true;
        else if (f === 'l') listening = true;
        else if (f === 'a') all = true;
        else if (f === 'n') numeric = true;
        else if (f === 'p') processes = true;
        else if (f === 'H') showHeader = false;
        else if (!'4eoim'.includes(f)) {
          ctx.stderr.write(`ss: invalid option -- '${f}'\n`);
          return 255;
        }
      }
    } else if (a === 'state') {
      const name = args[++i] ?? '';
      stateFilter = STATE_FILTERS[name] ?? null;
      if (!stateFilter) {
        ctx.stderr.write(`ss: wrong state name: ${name}\n`);
        return 255;
      }
    } else if ((a === 'sport' || a === 'dport') && args[i + 1] === '=') {
      const port = Number((args[i + 2] ?? '').replace(/^:/, ''));
      i += 2;
      filters.push(a === 'sport' ? (r) => r.localPort === port : (r) => r.peerPort === port);
    }
  }
  if (!tcp && !udp) tcp = udp = true;
  const shown = socketRows(ns).filter((r) => {
    if ((r.netid === 'tcp' && !tcp) || (r.netid === 'udp' && !udp)) return false;
    if (stateFilter) return stateFilter.includes(r.state);
    const isListener = r.state === 'LISTEN' || r.state === 'UNCONN';
    return all || (listening ? isListener : !isListener);
  }).filter((r) => filters.every((f) => f(r)));
  const port = (p: number | null, netid: 'tcp' | 'udp') => (p === null ? '*' : numeric ? String(p) : (serviceName(p, netid) ?? String(p)));
  const withNetid = tcp && udp;
  // The State column shows only when more than one state can match: UDP alone, unless -a or -l, asks for ESTAB only.
  const withState = stateFilter === null && (all || listening || tcp);
  const pid = new Map<string, number>();
  const header = [withNetid ? 'Netid' : null, withState ? 'State' : null, 'Recv-Q', 'Send-Q', 'Local Address', 'Port', 'Peer Address', 'Port', 'Process'];
  const table = shown.map((r) => {
    if (processes && r.program && !pid.has(r.program)) pid.set(r.program, ++ctx.host.lastPid);
    return [withNetid ? r.netid : null, withState ? r.state : null, String(r.recvQ), String(r.sendQ), r.localAddr, port(r.localPort, r.netid), r.peerAddr, port(r.peerPort, r.netid), processes && r.program ? `users:(("${r.program}",pid=${pid.get(r.program)},fd=3))` : ''];
  });
  // Without -H the header is the first row, and its cells count in the widths; the queues print as %-6d.
  const widths = header.map((h, i) => Math.max(showHeader ? (h?.length ?? 0) : 0, i === 2 || i === 3 ? 6 : 0, ...table.map((row) => row[i]?.length ?? 0)));
  // Left-aligned columns, addresses right-aligned against their ":port", Process straight after the peer port.
  const line = (cells: Array<string | null>) => {
    let text = '';
    cells.forEach((cell, i) => {
      if (cell === null) return;
      const w = widths[i]!;
      if (i === 4 || i === 6) text += cell.padStart(w);
      else if (i === 5 || i === 7) text += ':' + cell.padEnd(w) + (i === 5 ? ' ' : '');
      else if (i === 8) text += cell;
      else text += cell.padEnd(w) + ' ';
    });
    return text.trimEnd() + '\n';
  };
  if (showHeader) ctx.stdout.write(line(header));
  for (const row of table) ctx.stdout.write(line(row));
  return 0;
}

export const ss = program(run);
