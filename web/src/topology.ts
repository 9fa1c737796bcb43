// The topology diagram: a lab's namespaces, devices and segments, live from
// the state document or at a step of its timeline, drawn with cytoscape.js. Hosts are compound nodes holding their
// devices and their named namespaces; veth pairs are cables between peers.
// New nodes are placed by fcose next to what they connect to while the rest
// stays put; editors share those places, and the places people dragged, which
// win, through the notes document. The path of a command's packets is drawn
// over it for a few seconds.
import cytoscape, { type Core, type EdgeSingular, type ElementDefinition, type NodeSingular, type StylesheetJson } from 'cytoscape';
import fcose from 'cytoscape-fcose';
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

export interface SegmentEntry {
  ports: string[];
}

/** Keyed entries the diagram reads: a map of the state document, or a plain Map. */
interface Entries<T> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  keys(): IterableIterator<string>;
  values(): IterableIterator<T>;
}

/** What the diagram draws: the lab live, or the lab at a step of its timeline. */
export interface DiagramSource {
  readonly namespaces: Entries<NamespaceEntry>;
  readonly devices: Entries<DeviceEntry>;
  readonly segments: Entries<SegmentEntry>;
  /** Calls `changed` whenever any of them changed. */
  observe(changed: () => void): void;
}

/** The lab live: the state document's maps. */
export function liveSource(state: Y.Doc): DiagramSource {
  const source = { namespaces: state.getMap<NamespaceEntry>('namespaces'), devices: state.getMap<DeviceEntry>('devices'), segments: state.getMap<SegmentEntry>('segments') };
  return { ...source, observe: (changed) => Object.values(source).forEach((map) => map.observe(changed)) };
}

cytoscape.use(fcose);

/** The fcose options this diagram uses (the extension ships no types). */
interface FcoseLayoutOptions {
  name: 'fcose';
  eles: cytoscape.CollectionReturnValue;
  quality: 'proof';
  randomize: false;
  animate: false;
  fit: false;
  nodeDimensionsIncludeLabels: boolean;
  packComponents: boolean;
  nodeRepulsion: () => number;
  idealEdgeLength: (edge: EdgeSingular) => number;
  nestingFactor: number;
  gravity: number;
  numIter: number;
  fixedNodeConstraint: Array<{ nodeId: string; position: Point }> | undefined;
  alignmentConstraint: { horizontal: string[][] | undefined; vertical: string[][] | undefined } | undefined;
  relativePlacementConstraint: RelativePlacement[] | undefined;
}

type RelativePlacement = { top: string; bottom: string; gap: number } | { left: string; right: string; gap: number };

interface Point {
  x: number;
  y: number;
}

/** A path drawn on the diagram: the nodes of its hops, and where its packets died. */
interface ShownPath {
  line: string;
  packets: PacketPath;
  hops: string[];
  drop: { node: string; reason: string } | null;
}

const PATH_SHOWN_MS = 6000;
const DROP_NOTE = 'drop-note';
const PATH_COLOR = '#ffb300';
const DROP_COLOR = '#c62828';

const DEVICE_GAP = 24;
/** Fitting never zooms in further: a small diagram keeps readable proportions. */
const MAX_FIT_ZOOM = 1.3;
/** How far a segment sits above its ports. */
const SEGMENT_RISE = 70;
const HOST_GAP = 40;
const ROW_HEIGHT = 90;

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: { label: 'data(label)', 'font-family': 'DejaVu Sans, Noto Sans CJK KR, sans-serif', 'font-size': 12, 'text-wrap': 'wrap' },
  },
  {
    selector: 'node.host',
    style: {
      shape: 'round-rectangle',
      'background-color': '#eef2f7',
      'border-color': '#6b7c93',
      'border-width': 2,
      // Below the box: segment cables come in from above.
      'text-valign': 'bottom',
      'text-halign': 'center',
      'text-margin-y': 2,
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
      width: 110,
      height: 28,
      'background-color': '#2e8540',
      color: '#ffffff',
      'font-weight': 'bold',
      'text-valign': 'center',
      'text-halign': 'center',
    },
  },
  // An empty namespace is a box of its own size until a device moves in.
  { selector: 'node.ns:childless', style: { width: 70, height: 28 } },
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
      'text-valign': 'center',
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

/** How many boxes a node is inside. */
function depth(node: NodeSingular | undefined): number {
  return node ? node.ancestors().length : 0;
}

function rounded(point: Point): Point {
  return { x: Math.round(point.x), y: Math.round(point.y) };
}

function box(lines: string[]): { width: number; height: number } {
  return { width: Math.max(...lines.map((l) => l.length)) * 7.4 + 16, height: lines.length * 15 + 10 };
}

export class Topology {
  readonly cy: Core;
  private readonly namespaces: Entries<NamespaceEntry>;
  private readonly devices: Entries<DeviceEntry>;
  private readonly segments: Entries<SegmentEntry>;
  /** Where people dragged nodes. */
  private readonly positions: Y.Map<Point>;
  /** Where an editor's layout placed nodes. */
  private readonly layout: Y.Map<Point>;
  private scheduled = false;
  /** Says in words what the diagram highlights, and why packets died. */
  readonly pathNote = el('p', 'path-note');
  private shownPath: ShownPath | null = null;
  private pathTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    container: HTMLElement,
    source: DiagramSource,
    /** The notes document, which holds the places nodes are shared at. */
    notes: Y.Doc,
    private readonly hostOrder: () => string[],
    private readonly canEdit: boolean,
    /** Layout places may be shared: this participant edits, and holds the notes document's places already (else two layouts would fight). */
    private readonly shareLayout: () => boolean,
  ) {
    this.namespaces = source.namespaces;
    this.devices = source.devices;
    this.segments = source.segments;
    this.positions = notes.getMap('positions');
    this.layout = notes.getMap('layout');
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
    source.observe(schedule);
    for (const map of [this.positions, this.layout]) map.observe(schedule);
    this.cy.on('dragfree', 'node', (event) => {
      if (!this.canEdit) return;
      const target: NodeSingular = event.target;
      const nodes: NodeSingular[] = target.isParent() ? target.descendants().filter((n: NodeSingular) => !n.isParent()).map((n: NodeSingular) => n) : [target];
      notes.transact(() => nodes.forEach((n) => void this.positions.set(n.id(), { ...n.position() })));
    });
    this.render();
  }

  resize(): void {
    this.cy.resize();
    this.fit();
  }

  /** Shows the whole diagram, without blowing a small one up. */
  fit(): void {
    this.cy.fit(undefined, 20);
    if (this.cy.zoom() > MAX_FIT_ZOOM) {
      this.cy.zoom(MAX_FIT_ZOOM);
      this.cy.center();
    }
  }

  render(): void {
    // Nodes before edges: an edge needs both its ends in the graph.
    const wanted = this.elements().sort((a, b) => Number('source' in a.data) - Number('source' in b.data));
    const ids = new Set(wanted.map((e) => e.data.id!));
    // Where every node was before this change: a box that was empty keeps its spot when something moves in.
    const before = new Map(this.cy.nodes().map((n) => [n.id(), { ...n.position() }]));
    const added: NodeSingular[] = [];
    this.cy.batch(() => {
      // The highlight's thick borders must not count in the layout: it is drawn again at the end.
      this.clearPath();
      this.cy.elements().filter((e) => !ids.has(e.id())).remove();
      for (const element of wanted) {
        const existing = this.cy.getElementById(element.data.id!);
        if (existing.empty()) {
          const node = this.cy.add(element);
          if (node.isNode() && !element.position) added.push(node);
          continue;
        }
        existing.data(element.data);
        existing.classes(element.classes as string);
        if (element.position && !existing.isParent()) existing.position(element.position);
      }
    });
    // Compound nodes take their place from their children; only childless nodes are laid out.
    const unplaced = added.filter((node) => node.inside() && node.isChildless());
    // Where placed nodes were before this render's layout work, after taking the shared places.
    const settled = new Map(this.cy.nodes().map((n) => [n.id(), { ...n.position() }]));
    if (unplaced.length > 0) this.place(unplaced, before);
    this.centreSegments();
    // Also after a label grew (an address was added): its neighbours make room.
    this.separate(new Set(unplaced.map((node) => node.id())));
    this.shareLayoutPlaces(unplaced.length > 0 ? settled : null);
    // The view moves only when it must: on the first drawing, or to show what went out of it.
    if (before.size === 0 || !this.inView()) this.fit();
    this.describePath();
    this.drawPath();
  }

  /**
   * Places new nodes near what they connect to and lets fcose settle them while
   * every node already on the diagram stays where it is. Editors share the result,
   * so that everyone, late joiners included, sees the same picture.
   */
  private place(unplaced: NodeSingular[], before: Map<string, Point>): void {
    const fresh = new Set(unplaced.map((node) => node.id()));
    const seeds = this.seedPositions();
    for (const node of unplaced) node.position(this.startingPoint(node, fresh, before, seeds));
    // Nothing pulls on new nodes without cables (an empty namespace) once the rest is placed: their starting point is their place.
    const firstLayout = unplaced.length === this.cy.nodes().filter((n: NodeSingular) => n.isChildless() && n.id() !== DROP_NOTE).length;
    if (!firstLayout && unplaced.every((node) => node.degree(false) === 0)) {
      for (const node of unplaced) node.position(rounded(node.position()));
      return;
    }
    const laidOut = this.cy.elements().not(`#${DROP_NOTE}`);
    const fixedNodeConstraint = laidOut
      .nodes()
      .filter((node: NodeSingular) => node.isChildless() && !fresh.has(node.id()))
      .map((node: NodeSingular) => ({ nodeId: node.id(), position: { ...node.position() } }));
    const options: FcoseLayoutOptions = {
      name: 'fcose',
      eles: laidOut,
      quality: 'proof',
      randomize: false,
      animate: false,
      fit: false,
      nodeDimensionsIncludeLabels: true,
      packComponents: false,
      nodeRepulsion: () => 4500,
      idealEdgeLength: (edge: EdgeSingular) => (edge.hasClass('veth') ? 70 : edge.hasClass('master') ? 45 : 55),
      nestingFactor: 0.1,
      gravity: 0.25,
      numIter: 2500,
      fixedNodeConstraint: fixedNodeConstraint.length > 0 ? fixedNodeConstraint : undefined,
      ...this.constraints(fresh),
    };
    this.cy.layout(options).run();
    for (const node of unplaced) {
      // Nothing pulls on a device cabled to nothing (a loopback with addresses): it goes right below its host's first link.
      const link = node.hasClass('device') && node.degree(false) === 0 ? this.cy.nodes('.device').filter((d: NodeSingular) => d.data('segment') && d.data('host') === node.data('host')).toArray()[0] as NodeSingular | undefined : undefined;
      if (link) node.position({ x: link.position('x'), y: link.position('y') + (link.height() + node.height()) / 2 + 40 });
      node.position(rounded(node.position()));
    }
  }

  /** A segment sits above the middle of its ports, like the cable they hang from, unless someone dragged it. */
  private centreSegments(): void {
    this.cy.nodes('.segment').forEach((segment: NodeSingular) => {
      const ports = segment.neighborhood('node');
      if (this.positions.has(segment.id()) || ports.empty()) return;
      const box = ports.boundingBox({ includeEdges: false });
      segment.position(rounded({ x: (box.x1 + box.x2) / 2, y: box.y1 - SEGMENT_RISE }));
    });
  }

  /**
   * The shape of a network diagram, for nodes being placed: the hosts' links to
   * segments in one row, hosts left to right in the lab's order, each segment
   * above its ports, a host's other devices below its links and its namespaces
   * further below. Constraints between two nodes already placed are left out:
   * those stay where they are.
   */
  private constraints(fresh: Set<string>): Pick<FcoseLayoutOptions, 'alignmentConstraint' | 'relativePlacementConstraint'> {
    const order = this.hosts();
    const devices = this.cy.nodes('.device').toArray() as NodeSingular[];
    const ports = devices
      .filter((d) => d.data('segment'))
      .sort((a, b) => order.indexOf(a.data('host')) - order.indexOf(b.data('host')) || a.data('ifindex') - b.data('ifindex'));
    const involves = (...ids: string[]) => ids.some((id) => fresh.has(id));
    const relative: RelativePlacement[] = [];
    ports.slice(1).forEach((port, i) => {
      const before = ports[i]!;
      if (involves(before.id(), port.id())) relative.push({ left: before.id(), right: port.id(), gap: before.data('host') === port.data('host') ? 30 : 110 });
    });
    for (const port of ports) {
      const segment = `seg:${port.data('segment')}`;
      if (involves(segment, port.id()) && this.cy.getElementById(segment).nonempty()) relative.push({ top: segment, bottom: port.id(), gap: 45 });
    }
    for (const device of devices) {
      if (device.data('segment')) continue;
      // A bridge's ports hang below it; a namespace's end of a veth below the host's end; the rest below the host's links.
      const master = this.cy.getElementById(device.data('masterNode') ?? '');
      const peer = this.cy.getElementById(device.data('peerNode') ?? '');
      const link = ports.find((p) => p.data('host') === device.data('host'));
      const above = master.nonempty() ? master : device.data('named') && peer.nonempty() && !peer.data('named') ? peer : link;
      if (above && involves(above.id(), device.id())) relative.push({ top: above.id(), bottom: device.id(), gap: 40 });
    }
    // A namespace's end of a veth right below the host's end.
    const vertical = devices
      .filter((d) => d.data('named') && involves(d.id(), d.data('peerNode') ?? ''))
      .flatMap((d) => {
        const peer = this.cy.getElementById(d.data('peerNode') ?? '');
        return peer.nonempty() && !peer.data('named') ? [[peer.id(), d.id()]] : [];
      });
    const row = ports.filter((p) => fresh.has(p.id()));
    const anchor = ports.find((p) => !fresh.has(p.id()));
    const aligned = anchor ? [anchor.id(), ...row.map((p) => p.id())] : row.map((p) => p.id());
    return {
      alignmentConstraint: aligned.length > 1 || vertical.length > 0 ? { horizontal: aligned.length > 1 ? [aligned] : undefined, vertical: vertical.length > 0 ? vertical : undefined } : undefined,
      relativePlacementConstraint: relative.length > 0 ? relative : undefined,
    };
  }

  /**
   * Pushes apart siblings (nodes in the same box, or hosts and segments at the
   * top) that overlap after a placement or after a label grew. A box moves as
   * a whole, so its insides keep their places relative to each other.
   */
  private separate(fresh: Set<string>): void {
    const groups: NodeSingular[][] = [this.cy.nodes().orphans(), ...this.cy.nodes().filter((n: NodeSingular) => n.isParent()).map((p: NodeSingular) => p.children())]
      .map((group) => group.filter((n: NodeSingular) => n.id() !== DROP_NOTE).toArray() as NodeSingular[])
      .sort((a, b) => depth(b[0]) - depth(a[0]));
    /** The nodes already placed that moving `n` would move. */
    const placed = (n: NodeSingular) => n.union(n.descendants()).filter((d: NodeSingular) => d.isChildless() && !fresh.has(d.id())).length;
    for (let round = 0; round < 60; round++) {
      let clear = true;
      for (const group of groups) {
        for (const [i, a] of group.entries()) {
          for (const b of group.slice(i + 1)) {
            const boxA = a.boundingBox({ includeEdges: false });
            const boxB = b.boundingBox({ includeEdges: false });
            const gap = a.isParent() || b.isParent() ? HOST_GAP / 2 : DEVICE_GAP / 2;
            const dx = Math.min(boxA.x2, boxB.x2) - Math.max(boxA.x1, boxB.x1) + gap;
            const dy = Math.min(boxA.y2, boxB.y2) - Math.max(boxA.y1, boxB.y1) + gap;
            if (dx <= 0 || dy <= 0) continue;
            clear = false;
            // Hosts keep their row: the one on the right moves further right. Otherwise the one whose
            // move displaces fewer placed nodes gives way (a new node before an old one).
            const hosts = a.isParent() && b.isParent() && a.isOrphan();
            const aMoves = hosts ? boxA.x1 + boxA.x2 > boxB.x1 + boxB.x2 : placed(a) < placed(b);
            const moving = aMoves ? a : b;
            // Always right or down (a segment up, away from the hosts), so that pushes never undo each other;
            // sideways when it is about as short a move, the pane being wider than tall.
            const sideways = hosts || dx <= dy * 1.5;
            const shift = sideways ? { x: Math.ceil(dx), y: 0 } : { x: 0, y: moving.hasClass('segment') ? -Math.ceil(dy) : Math.ceil(dy) };
            const nodes = moving.isParent() ? (moving.descendants().filter((d: NodeSingular) => d.isChildless()).toArray() as NodeSingular[]) : [moving];
            for (const n of nodes) n.position({ x: n.position('x') + shift.x, y: n.position('y') + shift.y });
          }
        }
      }
      if (clear) return;
    }
  }

  /**
   * Editors write down, for those who join later, the places of nodes that
   * have none shared yet and, after placing new nodes, of every node that
   * placement moved (`settled`: where nodes were before it). Other renders
   * write nothing else: their pushes are recomputed by everyone alike from
   * the shared places, and two editors never take turns rewriting each other's.
   */
  private shareLayoutPlaces(settled: Map<string, Point> | null): void {
    if (!this.shareLayout()) return;
    const changed = this.cy.nodes().filter((n: NodeSingular) => {
      if (!n.isChildless() || n.id() === DROP_NOTE) return false;
      const was = settled?.get(n.id());
      return !this.sharedPosition(n.id()) || (settled !== null && (!was || was.x !== n.position('x') || was.y !== n.position('y')));
    });
    if (changed.nonempty()) this.layout.doc!.transact(() => changed.forEach((n: NodeSingular) => void this.layout.set(n.id(), { ...n.position() })));
  }

  /** Where a new node starts: in the empty box it joins, beside the nodes it is cabled to, after its siblings, or on a row for its namespace. */
  private startingPoint(node: NodeSingular, fresh: Set<string>, before: Map<string, Point>, seeds: Map<string, Point>): Point {
    const parent = node.parent().first();
    const parentSpot = parent.nonempty() && parent.children().length === 1 ? before.get(parent.id()) : undefined;
    if (parentSpot) return parentSpot;
    const cabled = node.neighborhood('node').filter((n: NodeSingular) => !fresh.has(n.id()));
    if (cabled.nonempty()) {
      const at = cabled.map((n: NodeSingular) => n.position());
      return { x: at.reduce((sum, p) => sum + p.x, 0) / at.length + 30, y: at.reduce((sum, p) => sum + p.y, 0) / at.length + 40 };
    }
    const siblings = (parent.nonempty() ? parent.children() : this.cy.nodes().orphans()).filter((n) => n.id() !== node.id() && !fresh.has(n.id()) && n.id() !== DROP_NOTE);
    if (siblings.nonempty()) {
      const box = siblings.boundingBox({ includeLabels: true });
      return { x: box.x2 + node.width() / 2 + DEVICE_GAP, y: (box.y1 + box.y2) / 2 };
    }
    return seeds.get(node.id()) ?? { x: 0, y: 0 };
  }

  /** The whole diagram is on screen. */
  private inView(): boolean {
    const view = this.cy.extent();
    const box = this.cy.elements().boundingBox();
    return box.x1 >= view.x1 && box.x2 <= view.x2 && box.y1 >= view.y1 && box.y2 <= view.y2;
  }

  /**
   * Highlights the places a command's packets crossed, and marks where they
   * died: for a few seconds, or while `lasting` until another path or
   * `hidePath` (the timeline's step).
   */
  showPath(line: string, packets: PacketPath, lasting = false): void {
    clearTimeout(this.pathTimer);
    const hops = (packets.path ?? []).map((hop) => this.nodeOf(hop));
    this.shownPath = { line, packets, hops, drop: packets.drop && { node: this.nodeOf(packets.drop), reason: packets.drop.reason } };
    this.describePath();
    this.pathNote.classList.toggle('dropped', packets.drop !== null);
    this.pathNote.hidden = false;
    this.drawPath();
    if (!lasting) this.pathTimer = setTimeout(() => this.hidePath(), PATH_SHOWN_MS);
  }

  hidePath(): void {
    clearTimeout(this.pathTimer);
    this.shownPath = null;
    this.pathNote.hidden = true;
    this.drawPath();
  }

  /** Says in the page's language what the diagram highlights. */
  private describePath(): void {
    if (!this.shownPath) return;
    const { line, packets } = this.shownPath;
    const route = (packets.path ?? []).map(hopText).join(' → ');
    this.pathNote.textContent = `${t('packetPath')} ${line}: ${route}${packets.drop ? ` ✗ ${t('droppedAt')} ${hopText(packets.drop)}: ${packets.drop.reason}` : ''}`;
    this.pathNote.title = this.pathNote.textContent;
  }

  /** The node drawing a hop: its device, or its namespace when the device is not drawn. */
  private nodeOf(hop: PathHop | PathDrop): string {
    const device = [...this.devices.values()].find((d) => d.ns === hop.where && d.name === hop.device);
    return device && drawn(device) ? deviceNode(device) : nsNode(hop.where);
  }

  private clearPath(): void {
    this.cy.elements('.path, .drop').removeClass('path drop');
    this.cy.getElementById(DROP_NOTE).remove();
  }

  private drawPath(): void {
    this.cy.batch(() => {
      this.clearPath();
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
      this.cy.add({ data: { id: DROP_NOTE, label: `✗ ${drop.reason}` }, position: { ...dropNode.position() } });
    });
    // Measured once drawn: the note's size is its wrapped label's.
    const note = this.cy.getElementById(DROP_NOTE);
    if (note.nonempty() && this.shownPath?.drop) note.position(this.clearSpotBeside(this.cy.getElementById(this.shownPath.drop.node), note));
  }

  /** Below, above, right or left of `node`: the first spot where `note` covers the least of other nodes and labels. */
  private clearSpotBeside(node: NodeSingular, note: NodeSingular): Point {
    const at = node.boundingBox({ includeEdges: false, includeLabels: !node.isParent() });
    const size = note.boundingBox();
    const [w, h] = [size.w / 2 + 6, size.h / 2 + 6];
    const middle = { x: (at.x1 + at.x2) / 2, y: (at.y1 + at.y2) / 2 };
    const spots = [0, 1, 2].flatMap((further) => [
      { x: middle.x, y: at.y2 + h + further * 2 * h },
      { x: middle.x, y: at.y1 - h - further * 2 * h },
      { x: at.x2 + w + further * 40, y: middle.y },
      { x: at.x1 - w - further * 40, y: middle.y },
    ]);
    const obstacles = this.cy
      .nodes()
      .not(note)
      .map((n: NodeSingular) => (n.isParent() ? n.boundingBox({ includeNodes: false, includeEdges: false }) : n.boundingBox({ includeEdges: false })));
    const covered = (spot: Point) =>
      obstacles.reduce((sum, b) => sum + Math.max(0, Math.min(b.x2, spot.x + w) - Math.max(b.x1, spot.x - w)) * Math.max(0, Math.min(b.y2, spot.y + h) - Math.max(b.y1, spot.y - h)), 0);
    return spots.reduce((best, spot) => (covered(spot) < covered(best) ? spot : best));
  }

  /** Hosts in the welcome's order, then any others the state document names. */
  private hosts(): string[] {
    const known = new Set(this.hostOrder());
    return [...known, ...new Set([...this.namespaces.values()].map((n) => n.host).filter((h) => !known.has(h)).sort())];
  }

  private drawnDevices(): DeviceEntry[] {
    return [...this.devices.values()].filter(drawn).sort((a, b) => a.ns.localeCompare(b.ns) || a.ifindex - b.ifindex);
  }

  /** A node's shared place: where someone dragged it, or where an editor's layout put it. */
  private sharedPosition(id: string): Point | undefined {
    return this.positions.get(id) ?? this.layout.get(id);
  }

  private elements(): ElementDefinition[] {
    const devices = this.drawnDevices();
    const byName = new Map(devices.map((d) => [`${d.ns}:${d.name}`, d]));
    const hosts = this.hosts();
    const elements: ElementDefinition[] = [];
    for (const host of hosts) elements.push({ data: { id: `host:${host}`, label: host }, classes: 'host', position: this.sharedPosition(`host:${host}`) });
    for (const ns of [...this.namespaces.keys()].filter((key) => key.includes('/')).sort()) {
      const entry = this.namespaces.get(ns)!;
      if (!hosts.includes(entry.host)) continue;
      const id = `ns:${ns}`;
      elements.push({ data: { id, label: entry.name ?? ns, parent: `host:${entry.host}` }, classes: 'ns', position: this.sharedPosition(id) });
    }

    for (const device of devices) {
      const id = deviceNode(device);
      const lines = this.label(device);
      const peer = device.peer && byName.get(`${device.peer.ns}:${device.peer.name}`);
      const master = device.master && byName.get(`${device.ns}:${device.master}`);
      const classes = ['device', device.kind, isDown(device) ? 'down' : 'up', device.ipv4.length === 0 && device.kind !== 'bridge' && !device.master ? 'noaddr' : ''];
      elements.push({
        data: {
          id,
          label: lines.join('\n'),
          parent: nsNode(device.ns),
          ...box(lines),
          // What the layout's constraints need.
          host: hostOf(device.ns),
          ifindex: device.ifindex,
          segment: device.segment,
          named: device.ns.includes('/'),
          masterNode: master ? deviceNode(master) : null,
          peerNode: peer ? deviceNode(peer) : null,
        },
        classes: classes.join(' ').trim(),
        position: this.sharedPosition(id),
      });
      if (peer && id < deviceNode(peer)) {
        const down = isDown(device) || isDown(peer);
        elements.push({ data: { id: `veth:${id}|${deviceNode(peer)}`, source: id, target: deviceNode(peer) }, classes: down ? 'veth down' : 'veth' });
      }
      if (master) elements.push({ data: { id: `master:${id}`, source: id, target: deviceNode(master) }, classes: isDown(device) ? 'master down' : 'master' });
    }

    for (const name of [...this.segments.keys()].sort()) {
      const id = `seg:${name}`;
      elements.push({ data: { id, label: name }, classes: 'segment', position: this.sharedPosition(id) });
      for (const port of this.segments.get(name)!.ports) {
        const device = byName.get(port);
        if (device) elements.push({ data: { id: `port:${deviceNode(device)}`, source: deviceNode(device), target: id }, classes: isDown(device) ? 'port down' : 'port' });
      }
    }
    return elements;
  }

  /**
   * Starting points for nodes nothing else places (a fresh diagram): hosts side
   * by side, a row of devices per namespace, segments above the hosts they join.
   * Deterministic, so every participant's first layout is the same.
   */
  private seedPositions(): Map<string, Point> {
    const devices = this.drawnDevices();
    const named = [...this.namespaces.keys()].filter((key) => key.includes('/')).sort();
    const seeds = new Map<string, Point>();
    let left = 0;
    for (const host of this.hosts()) {
      const rows = [host, ...named.filter((ns) => hostOf(ns) === host)];
      const widths = rows.map((ns) => devices.filter((d) => d.ns === ns).reduce((sum, d) => sum + box(this.label(d)).width + DEVICE_GAP, 0));
      const hostWidth = Math.max(120, ...widths);
      rows.forEach((ns, r) => {
        let x = left + (hostWidth - widths[r]!) / 2;
        const y = 110 + r * ROW_HEIGHT;
        seeds.set(nsNode(ns), { x: left + hostWidth / 2, y });
        for (const device of devices.filter((d) => d.ns === ns)) {
          const { width } = box(this.label(device));
          seeds.set(deviceNode(device), { x: x + width / 2, y });
          x += width + DEVICE_GAP;
        }
      });
      left += hostWidth + HOST_GAP;
    }
    [...this.segments.keys()].sort().forEach((name, index) => {
      const xs = this.segments.get(name)!.ports.map((port) => devices.find((d) => `${d.ns}:${d.name}` === port)).flatMap((d) => (d ? [seeds.get(deviceNode(d))!.x] : []));
      seeds.set(`seg:${name}`, { x: xs.length ? (Math.min(...xs) + Math.max(...xs)) / 2 : 0, y: 20 - 50 * index });
    });
    return seeds;
  }

  private label(device: DeviceEntry): string[] {
    return [device.name, ...(device.ipv4.length ? device.ipv4 : device.kind === 'bridge' || device.master ? [] : [t('noAddress')])];
  }
}
