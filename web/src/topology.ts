// The topology diagram: the state document's namespaces, devices and
// segments drawn with cytoscape.js. Hosts are compound nodes holding their
// devices and their named namespaces; veth pairs are cables between peers.
// Positions come from a fixed layout, overridden by the positions people
// dragged, which are shared through the notes document. The path of a
// command's packets is drawn over it for a few seconds.
import cytoscape, { type Core, type ElementDefinition, type NodeSingular, type StylesheetJson } from 'cytoscape';
import type * as Y from 'yjs';
import type { PacketPath, PathDrop, PathHop } from '../../shared/protocol';
import { el } from './dom';
import { t } from './i18n';

export interface NamespaceEntry {
  host: string;
  name: string | null;
}

export interface DeviceEntry {
  ns: string;
  name: string;
  ifindex: number;
  kind: 'loopback' | 'ether' | 'veth' | 'bridge' | 'dummy';
  up: boolean;
  carrier: boolean;
  operState: string;
  ipv4: string[];
  master: string | null;
  peer: { ns: string; name: string } | null;
  segment: string | null;
}

interface SegmentEntry {
  ports: string[];
}

interface Point {
  x: number;
  y: number;
}

/** A path drawn on the diagram: the nodes of its hops, and where its packets died. */
interface ShownPath {
  hops: string[];
  drop: { node: string; reason: string } | null;
}

const PATH_SHOWN_MS = 6000;
const DROP_NOTE = 'drop-note';
const PATH_COLOR = '#ffb300';
const DROP_COLOR = '#c62828';

const DEVICE_GAP = 24;
const HOST_GAP = 40;
const ROW_HEIGHT = 90;

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: { label: 'data(label)', 'font-family': 'DejaVu Sans, Noto Sans CJK KR, sans-serif', 'font-size': 11, 'text-wrap': 'wrap' },
  },
  {
    selector: 'node.host',
    style: {
      shape: 'round-rectangle',
      'background-color': '#eef2f7',
      'border-color': '#6b7c93',
      'border-width': 2,
      'text-valign': 'top',
      'text-halign': 'center',
      'font-size': 14,
      'font-weight': 'bold',
      padding: '14px',
    },
  },
  {
    selector: 'node.ns',
    style: {
      shape: 'round-rectangle',
      'background-color': '#fff6dc',
      'border-color': '#c99a06',
      'border-style': 'dashed',
      'border-width': 2,
      'text-valign': 'top',
      'text-halign': 'center',
      'font-size': 12,
      color: '#7a5d00',
      padding: '10px',
    },
  },
  {
    selector: 'node.device',
    style: {
      shape: 'round-rectangle',
      width: 'data(width)',
      height: 'data(height)',
      'background-color': '#2f6fb0',
      color: '#ffffff',
      'text-valign': 'center',
      'text-halign': 'center',
      'border-width': 2,
      'border-color': '#1d4a78',
    },
  },
  { selector: 'node.bridge', style: { 'background-color': '#8e44ad', 'border-color': '#5e2c74' } },
  { selector: 'node.noaddr', style: { 'border-color': '#f0a202', 'border-width': 3 } },
  { selector: 'node.down', style: { 'background-color': '#9aa3ad', 'border-color': '#6b737c', 'border-style': 'dashed', color: '#1d2329' } },
  {
    selector: 'node.segment',
    style: {
      shape: 'round-rectangle',
      width: 'data(width)',
      height: 30,
      'background-color': '#2e8540',
      color: '#ffffff',
      'font-weight': 'bold',
      'text-valign': 'center',
      'text-halign': 'center',
    },
  },
  { selector: 'node.placeholder', style: { width: 80, height: 24, 'background-opacity': 0, 'border-width': 0, events: 'no' } },
  { selector: 'edge', style: { width: 2, 'curve-style': 'bezier', 'line-color': '#2e8540' } },
  { selector: 'edge.veth', style: { width: 4, 'line-color': '#e8731a' } },
  { selector: 'edge.master', style: { width: 2, 'line-color': '#8e44ad', 'line-style': 'dotted' } },
  { selector: 'edge.down', style: { 'line-color': '#b3b9c0', 'line-style': 'dashed' } },
  { selector: 'node.path', style: { 'border-color': PATH_COLOR, 'border-width': 5, 'border-style': 'solid' } },
  { selector: 'edge.path', style: { 'line-color': PATH_COLOR, width: 7, 'line-style': 'solid', 'z-index': 10 } },
  { selector: 'node.drop', style: { 'background-color': DROP_COLOR, 'border-color': '#7f0000', 'border-width': 5, color: '#ffffff' } },
  {
    selector: `#${DROP_NOTE}`,
    style: {
      width: 1,
      height: 1,
      'background-opacity': 0,
      'border-width': 0,
      color: DROP_COLOR,
      'font-weight': 'bold',
      'font-size': 12,
      'text-valign': 'top',
      'text-max-width': '260px',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': '3px',
      'z-index': 20,
      events: 'no',
    },
  },
];

function hopText(hop: PathHop | PathDrop): string {
  return hop.device === null ? hop.where : `${hop.where} ${hop.device}`;
}

function hostOf(ns: string): string {
  return ns.split('/')[0]!;
}

function nsNode(ns: string): string {
  return ns.includes('/') ? `ns:${ns}` : `host:${ns}`;
}

function deviceNode(device: DeviceEntry): string {
  return `dev:${device.ns}#${device.ifindex}`;
}

/** A loopback is drawn only when it holds an address beyond 127.0.0.1, as the internet host's does. */
function drawn(device: DeviceEntry): boolean {
  return device.kind !== 'loopback' || device.ipv4.some((a) => !a.startsWith('127.'));
}

function isDown(device: DeviceEntry): boolean {
  return !device.up || !device.carrier || device.operState === 'DOWN' || device.operState === 'LOWERLAYERDOWN';
}

function box(lines: string[]): { width: number; height: number } {
  return { width: Math.max(...lines.map((l) => l.length)) * 6.8 + 18, height: lines.length * 14 + 12 };
}

export class Topology {
  readonly cy: Core;
  private readonly namespaces: Y.Map<NamespaceEntry>;
  private readonly devices: Y.Map<DeviceEntry>;
  private readonly segments: Y.Map<SegmentEntry>;
  private readonly positions: Y.Map<Point>;
  private scheduled = false;
  /** Says in words what the diagram highlights, and why packets died. */
  readonly pathNote = el('p', 'path-note');
  private shownPath: ShownPath | null = null;
  private pathTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    container: HTMLElement,
    state: Y.Doc,
    notes: Y.Doc,
    private readonly hostOrder: () => string[],
    private readonly canEdit: boolean,
  ) {
    this.namespaces = state.getMap('namespaces');
    this.devices = state.getMap('devices');
    this.segments = state.getMap('segments');
    this.positions = notes.getMap('positions');
    this.pathNote.hidden = true;
    this.cy = cytoscape({ container, style: STYLE, minZoom: 0.2, maxZoom: 3, wheelSensitivity: 0.3, boxSelectionEnabled: false });
    const schedule = () => {
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.render();
      });
    };
    for (const map of [this.namespaces, this.devices, this.segments, this.positions]) map.observe(schedule);
    this.cy.on('dragfree', 'node', (event) => {
      if (!this.canEdit) return;
      const target: NodeSingular = event.target;
      const nodes: NodeSingular[] = target.isParent() ? target.descendants().filter((n: NodeSingular) => !n.isParent()).map((n: NodeSingular) => n) : [target];
      notes.transact(() => nodes.forEach((n) => void this.positions.set(n.id(), { ...n.position() })));
    });
    this.render();
  }

  /** Namespace and device names on a host, for Tab completion. */
  namesOn(host: string): string[] {
    const names: string[] = [];
    this.namespaces.forEach((entry, key) => entry.host === host && key.includes('/') && entry.name && names.push(entry.name));
    this.devices.forEach((device) => hostOf(device.ns) === host && names.push(device.name));
    return names;
  }

  resize(): void {
    this.cy.resize();
    this.cy.fit(undefined, 20);
  }

  render(): void {
    // Nodes before edges: an edge needs both its ends in the graph.
    const wanted = this.elements().sort((a, b) => Number('source' in a.data) - Number('source' in b.data));
    const before = new Set(this.cy.elements().map((e) => e.id()));
    const ids = new Set(wanted.map((e) => e.data.id!));
    let added = false;
    this.cy.batch(() => {
      this.cy.elements().filter((e) => !ids.has(e.id())).remove();
      for (const element of wanted) {
        const existing = this.cy.getElementById(element.data.id!);
        if (existing.empty()) {
          this.cy.add(element);
          added = true;
          continue;
        }
        existing.data(element.data);
        existing.classes(element.classes as string);
        if (element.position && !existing.isParent()) existing.position(element.position);
      }
    });
    if (added || before.size === 0) this.cy.fit(undefined, 20);
    this.drawPath();
  }

  /** Highlights for a few seconds the places a command's packets crossed, and marks where they died. */
  showPath(line: string, packets: PacketPath): void {
    clearTimeout(this.pathTimer);
    const hops = (packets.path ?? []).map((hop) => this.nodeOf(hop));
    this.shownPath = { hops, drop: packets.drop && { node: this.nodeOf(packets.drop), reason: packets.drop.reason } };
    const route = (packets.path ?? []).map(hopText).join(' → ');
    this.pathNote.textContent = `${t('packetPath')} ${line}: ${route}${packets.drop ? ` ✗ ${t('droppedAt')} ${hopText(packets.drop)}: ${packets.drop.reason}` : ''}`;
    this.pathNote.title = this.pathNote.textContent;
    this.pathNote.classList.toggle('dropped', packets.drop !== null);
    this.pathNote.hidden = false;
    this.drawPath();
    this.pathTimer = setTimeout(() => {
      this.shownPath = null;
      this.pathNote.hidden = true;
      this.drawPath();
    }, PATH_SHOWN_MS);
  }

  /** The node drawing a hop: its device, or its namespace when the device is not drawn. */
  private nodeOf(hop: PathHop | PathDrop): string {
    const device = [...this.devices.values()].find((d) => d.ns === hop.where && d.name === hop.device);
    return device && drawn(device) ? deviceNode(device) : nsNode(hop.where);
  }

  private drawPath(): void {
    this.cy.batch(() => {
      this.cy.elements('.path, .drop').removeClass('path drop');
      this.cy.getElementById(DROP_NOTE).remove();
      if (!this.shownPath) return;
      const nodes = this.shownPath.hops.map((id) => this.cy.getElementById(id)).filter((node) => node.nonempty());
      nodes.forEach((node, i) => {
        node.addClass('path');
        const next = nodes[i + 1];
        if (!next || next.same(node)) return;
        // A cable between the two (veth, bridge port), or the segment both are plugged into.
        const segments = node.neighborhood('node.segment').intersection(next.neighborhood('node.segment'));
        node.edgesWith(next).union(segments).union(node.edgesWith(segments)).union(next.edgesWith(segments)).addClass('path');
      });
      const drop = this.shownPath.drop;
      const dropNode = drop && this.cy.getElementById(drop.node);
      if (!drop || !dropNode?.nonempty()) return;
      dropNode.addClass('drop');
      const box = dropNode.boundingBox();
      this.cy.add({ data: { id: DROP_NOTE, label: `✗ ${drop.reason}` }, position: { x: (box.x1 + box.x2) / 2, y: box.y1 - 4 } });
    });
  }

  private elements(): ElementDefinition[] {
    const devices = [...this.devices.values()].filter(drawn).sort((a, b) => a.ns.localeCompare(b.ns) || a.ifindex - b.ifindex);
    const byName = new Map(devices.map((d) => [`${d.ns}:${d.name}`, d]));
    const known = new Set(this.hostOrder());
    const hosts = [...this.hostOrder(), ...[...this.namespaces.values()].map((n) => n.host).filter((h) => !known.has(h)).sort()];
    const named = [...this.namespaces.keys()].filter((key) => key.includes('/')).sort();
    const elements: ElementDefinition[] = [];
    const layout = new Map<string, Point>();

    let left = 0;
    for (const host of hosts) {
      elements.push({ data: { id: `host:${host}`, label: host }, classes: 'host' });
      const rows = [host, ...named.filter((ns) => hostOf(ns) === host)].map((ns) => devices.filter((d) => d.ns === ns));
      const widths = rows.map((row) => row.reduce((sum, d) => sum + box(this.label(d)).width + DEVICE_GAP, 0));
      const hostWidth = Math.max(120, ...widths);
      rows.forEach((row, r) => {
        let x = left + (hostWidth - widths[r]!) / 2;
        for (const device of row) {
          const { width } = box(this.label(device));
          layout.set(deviceNode(device), { x: x + width / 2, y: 110 + r * ROW_HEIGHT });
          x += width + DEVICE_GAP;
        }
      });
      left += hostWidth + HOST_GAP;
    }
    for (const ns of named) {
      const entry = this.namespaces.get(ns)!;
      if (!hosts.includes(entry.host)) continue;
      elements.push({ data: { id: `ns:${ns}`, label: entry.name ?? ns, parent: `host:${entry.host}` }, classes: 'ns' });
      // An empty namespace still needs a place inside its host.
      if (!devices.some((d) => d.ns === ns)) {
        const row = 1 + named.filter((n) => hostOf(n) === entry.host).indexOf(ns);
        const hostX = [...layout.entries()].filter(([id]) => id.startsWith(`dev:${entry.host}#`)).map(([, p]) => p.x);
        elements.push({ data: { id: `empty:${ns}`, label: '', parent: `ns:${ns}` }, classes: 'placeholder', position: { x: hostX[0] ?? 0, y: 110 + row * ROW_HEIGHT } });
      }
    }

    for (const device of devices) {
      const id = deviceNode(device);
      const lines = this.label(device);
      const classes = ['device', device.kind, isDown(device) ? 'down' : 'up', device.ipv4.length === 0 && device.kind !== 'bridge' && !device.master ? 'noaddr' : ''];
      elements.push({
        data: { id, label: lines.join('\n'), parent: nsNode(device.ns), ...box(lines) },
        classes: classes.join(' ').trim(),
        position: this.positions.get(id) ?? layout.get(id),
      });
      const peer = device.peer && byName.get(`${device.peer.ns}:${device.peer.name}`);
      if (peer && id < deviceNode(peer)) {
        const down = isDown(device) || isDown(peer);
        elements.push({ data: { id: `veth:${id}|${deviceNode(peer)}`, source: id, target: deviceNode(peer) }, classes: down ? 'veth down' : 'veth' });
      }
      const master = device.master && byName.get(`${device.ns}:${device.master}`);
      if (master) elements.push({ data: { id: `master:${id}`, source: id, target: deviceNode(master) }, classes: isDown(device) ? 'master down' : 'master' });
    }

    const segmentNames = [...this.segments.keys()].sort();
    segmentNames.forEach((name, index) => {
      const ports = this.segments.get(name)!.ports.map((port) => byName.get(port)).filter((d): d is DeviceEntry => d !== undefined);
      const xs = ports.map((d) => layout.get(deviceNode(d))?.x ?? 0);
      const id = `seg:${name}`;
      const position = this.positions.get(id) ?? { x: xs.length ? (Math.min(...xs) + Math.max(...xs)) / 2 : 0, y: -40 * index };
      const width = Math.max(120, xs.length ? Math.max(...xs) - Math.min(...xs) + 60 : 0);
      elements.push({ data: { id, label: name, width }, classes: 'segment', position });
      for (const device of ports) {
        elements.push({ data: { id: `port:${deviceNode(device)}`, source: deviceNode(device), target: id }, classes: isDown(device) ? 'port down' : 'port' });
      }
    });
    return elements;
  }

  private label(device: DeviceEntry): string[] {
    return [device.name, ...(device.ipv4.length ? device.ipv4 : device.kind === 'bridge' || device.master ? [] : [t('noAddress')])];
  }
}
