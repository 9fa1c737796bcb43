// The simulated world: hosts joined by layer-2 segments, one clock and one
// random source. Time is passed in and advanced explicitly; nothing here
// reads a real clock, so the same world, commands and seed always give the
// same result.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { Mac } from './addr';
import { addressExpired } from './address';
import type { Device, Ipv4Address, Ipv6Address } from './device';
import { dadCompleted } from './ipv6';
import { Host } from './host';
import { Segment } from './links/ether';
import { neighDelayExpired, neighSolicitExpired, proxyArpReplyDue, type NeighEntry } from './neigh';
import type { ArpMessage } from './packet';
import type { TcpSocket } from './sockets';
import { TraceFanout, type TraceSink } from './trace';

/** What a timer does when it fires, as data (a snapshot holds pending timers). */
export type TimerTask =
  | { kind: 'neigh-solicit' | 'neigh-delay'; entry: NeighEntry }
  | { kind: 'proxy-arp-reply'; dev: Device; arp: ArpMessage }
  | { kind: 'dad'; dev: Device; address: Ipv6Address }
  | { kind: 'time-wait' | 'syn-retransmit'; socket: TcpSocket }
  | { kind: 'address-expiry'; dev: Device; address: Ipv4Address; sinceUs: number };

export interface Timer {
  readonly at: number;
  /** Orders timers due at the same time: the one scheduled first runs first. */
  readonly seq: number;
  readonly task: TimerTask;
  cancelled: boolean;
}

function fire(task: TimerTask): void {
  switch (task.kind) {
    case 'neigh-solicit':
      return neighSolicitExpired(task.entry);
    case 'neigh-delay':
      return neighDelayExpired(task.entry);
    case 'proxy-arp-reply':
      return proxyArpReplyDue(task.dev, task.arp);
    case 'dad':
      return dadCompleted(task.dev, task.address);
    case 'time-wait':
      return task.socket.drop();
    case 'syn-retransmit':
      return task.socket.synTimeout();
    case 'address-expiry':
      return addressExpired(task.dev, task.address, task.sinceUs);
  }
}

export class World {
  /** Simulated time in microseconds. */
  now = 0;
  readonly hosts = new Map<string, Host>();
  readonly segments = new Map<string, Segment>();
  /** The installed trace sinks; null while there are none, so an untraced walk costs one check. */
  tracer: TraceFanout | null = null;
  private readonly queue: Timer[] = [];
  private seq = 0;
  private nsSerial = 0;
  private readonly rng: RandomGenerator;
  /** Timing jitter draws from its own stream so traffic never shifts the MACs of later devices. */
  private readonly jitterRng: RandomGenerator;

  constructor(readonly seed = 1) {
    this.rng = xoroshiro128plus(seed);
    this.jitterRng = xoroshiro128plus(seed ^ 0x5bd1e995);
  }

  startTracing(sink: TraceSink): void {
    (this.tracer ??= new TraceFanout()).add(sink);
  }

  stopTracing(sink: TraceSink): void {
    if (this.tracer?.remove(sink)) this.tracer = null;
  }

  addHost(name: string): Host {
    const host = new Host(this, name);
    this.hosts.set(name, host);
    return host;
  }

  addSegment(name: string): Segment {
    const segment = new Segment(name);
    this.segments.set(name, segment);
    return segment;
  }

  nextNsSerial(): number {
    return this.nsSerial++;
  }

  randomInt(min: number, max: number): number {
    return uniformInt(this.rng, min, max);
  }

  jitterUs(maxUs: number): number {
    return uniformInt(this.jitterRng, 0, maxUs);
  }

  /** A locally administered unicast MAC, as eth_random_addr() makes. */
  randomMac(): Mac {
    const first = (this.randomInt(0, 255) & 0xfe) | 0x02;
    let mac = first;
    for (let i = 0; i < 5; i++) mac = mac * 256 + this.randomInt(0, 255);
    return mac;
  }

  schedule(delayUs: number, task: TimerTask): Timer {
    const item: Timer = { at: this.now + Math.max(0, delayUs), seq: this.seq++, task, cancelled: false };
    // Keep the queue sorted by (at, seq); it stays short (neighbour timers, pings).
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.at > item.at || (this.queue[i - 1]!.at === item.at && this.queue[i - 1]!.seq > item.seq))) i--;
    this.queue.splice(i, 0, item);
    return item;
  }

  /** Time of the next pending event, or Infinity. */
  nextEventAt(): number {
    while (this.queue.length && this.queue[0]!.cancelled) this.queue.shift();
    return this.queue.length ? this.queue[0]!.at : Infinity;
  }

  /** Runs every event due up to `untilUs`, then sets the clock to it. */
  advance(untilUs: number): void {
    while (this.nextEventAt() <= untilUs) {
      const item = this.queue.shift()!;
      this.now = Math.max(this.now, item.at);
      fire(item.task);
    }
    this.now = Math.max(this.now, untilUs);
  }

  /** Runs events until `done()` holds or `deadlineUs` passes; returns whether done. */
  runUntil(done: () => boolean, deadlineUs: number): boolean {
    while (!done()) {
      const next = this.nextEventAt();
      if (next > deadlineUs) {
        this.now = Math.max(this.now, deadlineUs);
        return done();
      }
      const item = this.queue.shift()!;
      this.now = Math.max(this.now, item.at);
      fire(item.task);
    }
    return true;
  }
}
