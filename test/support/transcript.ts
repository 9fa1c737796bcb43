// Compares transcripts the way ../shared/oracle/score.py does: timings, MACs
// and IPv6 link-locals normalised, timer-driven neighbour states as one, and
// arp / ip neigh rows as sets. Everything else must be identical.
const TIME: Array<[RegExp, string]> = [
  [/time=[0-9.]+ ms/g, 'time=T ms'],
  [/time [0-9]+ms/g, 'time Tms'],
  [/rtt min\/avg\/max\/mdev = [0-9./]+ ms/g, 'rtt min/avg/max/mdev = T/T/T/T ms'],
  [/ {2}[0-9.]+ ms/g, '  T ms'],
];
const MAC = /\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b/g;
const LL6 = /fe80::[0-9a-f:]+/g;
const CMD = /^[A-Za-z0-9_-]+\$ /;
const ORDERLESS = /\b(arp|neigh\w*|neighbo\w*)\b|\bip(\s+-\S+(\s+[a-z0-9]+)?)*\s+n(e|ei|eig)?\b/;
const NEIGH = /\b(REACHABLE|STALE|DELAY|PROBE)\b/g;

export function normalise(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      for (const [rx, rep] of TIME) line = line.replace(rx, rep);
      line = line.replace(MAC, (m) => (m === '00:00:00:00:00:00' || m === 'ff:ff:ff:ff:ff:ff' ? m : 'MAC'));
      return line.replace(LL6, 'LL6').replace(/ tentative/g, '').replace(/ dadfailed/g, '').trimEnd();
    })
    .join('\n');
}

export interface Block {
  command: string;
  lines: string[];
}

export function blocks(text: string): Block[] {
  const out: Block[] = [];
  let cur: Block | null = null;
  for (const line of text.split('\n')) {
    if (CMD.test(line)) {
      cur = { command: line, lines: [] };
      out.push(cur);
    } else if (cur && !line.startsWith('#')) cur.lines.push(line.replace(NEIGH, 'NUD').trimEnd());
  }
  for (const b of out) {
    while (b.lines.length && b.lines[b.lines.length - 1] === '') b.lines.pop();
    if (ORDERLESS.test(b.command)) {
      const head = b.lines.slice(0, 1).filter((l) => l.startsWith('Address'));
      b.lines = [...head, ...b.lines.slice(head.length).sort()];
    }
  }
  return out;
}
