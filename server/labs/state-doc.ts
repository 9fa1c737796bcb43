// The state document: the lab as clients see it, written only by the server.
//
//   lab         Y.Map   title, world, clockUs (simulated clock)
//   namespaces  Y.Map   'hostA' | 'hostA/red' → NamespaceView
//   devices     Y.Map   'hostA#2' | 'hostA/red#1' (namespace # ifindex) → DeviceView
//   segments    Y.Map   segment name → SegmentView
//   running     Y.Map   seq → ActivityEntry of a command still running
//   activity    Y.Array ActivityEntry of finished commands, the latest ACTIVITY_KEPT
//
// The document is a pure function of the lab's log: the same entries give the
// same transactions, and the document's client id is fixed, so a lab rebuilt
// after a restart has exactly the document its clients already hold.
import { equalityDeep } from 'lib0/function';
import * as Y from 'yjs';
import type { ActivityEntry } from '../../shared/protocol';
import type { World } from '../sim/kernel/world';
import { topologyViews } from './projection';

/** Origin of the server's own transactions. */
const ENGINE_ORIGIN = 'engine';
const STATE_DOC_CLIENT_ID = 1;
const ACTIVITY_KEPT = 200;
/** Output kept with each activity entry, for an instructor's overview. */
const ACTIVITY_OUTPUT_CHARS = 1024;
/** The maps `update` keeps equal to the engine, writing only what changed. */
const SYNCED_MAPS = ['namespaces', 'devices', 'segments', 'running'] as const;


export class StateDoc {
  readonly doc = new Y.Doc();

  /** A new document for the lab, or the one `saved` holds (Y.encodeStateAsUpdate of an earlier one). */
  constructor(title: string, worldName: string, saved?: Uint8Array) {
    if (saved) {
      // The same items with the same ids, so later transactions continue exactly as on the
      // original. The fixed client id is taken after applying: Yjs gives a document that
      // receives items under its own id a new one.
      Y.applyUpdate(this.doc, saved, ENGINE_ORIGIN);
      this.doc.clientID = STATE_DOC_CLIENT_ID;
      return;
    }
    this.doc.clientID = STATE_DOC_CLIENT_ID;
    this.doc.transact(() => {
      const lab = this.doc.getMap('lab');
      lab.set('title', title);
      lab.set('world', worldName);
    }, ENGINE_ORIGIN);
  }

  encode(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc);
  }

  /** Writes what changed since the last call, in one transaction. */
  update(world: World, running: ActivityEntry[], finished: ActivityEntry[]): void {
    this.doc.transact(() => {
      const lab = this.doc.getMap('lab');
      if (lab.get('clockUs') !== world.now) lab.set('clockUs', world.now);
      const views = topologyViews(world);
      this.syncMap('namespaces', views.namespaces);
      this.syncMap('devices', views.devices);
      this.syncMap('segments', views.segments);
      this.syncMap('running', new Map(running.map((a) => [String(a.seq), a])));
      if (finished.length) {
        const activity = this.doc.getArray<ActivityEntry>('activity');
        activity.push(finished.map((a) => ({ ...a, output: a.output.slice(0, ACTIVITY_OUTPUT_CHARS) })));
        if (activity.length > ACTIVITY_KEPT) activity.delete(0, activity.length - ACTIVITY_KEPT);
      }
    }, ENGINE_ORIGIN);
  }

  /** Makes the map hold `next`, writing only the keys whose value changed (compared with what the map holds). */
  private syncMap(name: (typeof SYNCED_MAPS)[number], next: Map<string, object>): void {
    const map = this.doc.getMap(name);
    for (const key of [...map.keys()]) if (!next.has(key)) map.delete(key);
    for (const [key, value] of next) if (!equalityDeep(map.get(key), value)) map.set(key, value);
  }
}
