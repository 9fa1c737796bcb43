// A room driven directly through its socket interface, without a network.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { Frame } from '../../shared/protocol';
import { BadFrameError, Room, type RoomSocket } from '../../server/collab/room';

/** A socket that keeps what the room sends it. */
function socket(): RoomSocket & { sent: Array<Uint8Array | string>; closedWith: [number, string] | null } {
  const s = {
    sent: [] as Array<Uint8Array | string>,
    closedWith: null as [number, string] | null,
    send: (data: Uint8Array | string) => void s.sent.push(data),
    close: (code: number, reason: string) => void (s.closedWith = [code, reason]),
  };
  return s;
}

function room(): Room {
  const state = new Y.Doc();
  state.getMap('lab').set('title', 'T');
  return new Room(state, new Y.Doc(), { hosts: new Set(['hostA']), notesMaxBytes: 10_000, notesBytes: 0, presencePerSecond: 10, onNotesUpdate: () => {} });
}

function syncFrame(kind: number, write: (e: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, kind);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** Applies the room's sync frames to `doc`, as a client would. */
function applyFrames(doc: Y.Doc, frames: Array<Uint8Array | string>, kind: number): void {
  for (const data of frames) {
    if (typeof data === 'string') continue;
    const decoder = decoding.createDecoder(data);
    if (decoding.readVarUint(decoder) !== kind) continue;
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), doc, 'room');
  }
}

describe('room', () => {
  it('syncs the state document to a joining socket and broadcasts later changes', () => {
    const r = room();
    const a = socket();
    const conn = r.join(a, { participant: 'p', name: 'Ada', canWrite: true });
    expect(a.sent).toEqual([syncFrame(Frame.stateSync, (e) => syncProtocol.writeSyncStep1(e, r.state))]);
    const client = new Y.Doc();
    r.receive(conn, syncFrame(Frame.stateSync, (e) => syncProtocol.writeSyncStep1(e, client)));
    r.state.getMap('lab').set('clockUs', 5);
    applyFrames(client, a.sent, Frame.stateSync);
    expect(client.getMap('lab').toJSON()).toEqual({ title: 'T', clockUs: 5 });
  });

  it('drops a write to the state document and says why', () => {
    const r = room();
    const a = socket();
    const conn = r.join(a, { participant: 'p', name: 'Ada', canWrite: true });
    const client = new Y.Doc();
    client.getMap('lab').set('title', 'mine');
    r.receive(conn, syncFrame(Frame.stateSync, (e) => syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(client))));
    expect(r.state.getMap('lab').get('title')).toBe('T');
    expect(a.sent.at(-1)).toBe('{"type":"error","code":"read_only","message":"update dropped: the state document is written by the server only"}');
  });

  it('relays notes only to sockets that asked for them, and reports writers\' updates', () => {
    const stored: Uint8Array[] = [];
    const r = new Room(new Y.Doc(), new Y.Doc(), { hosts: new Set(), notesMaxBytes: 10_000, notesBytes: 0, presencePerSecond: 10, onNotesUpdate: (u) => stored.push(u) });
    const writer = socket();
    const reader = socket();
    const bystander = socket();
    const w = r.join(writer, { participant: 'w', name: 'W', canWrite: true });
    const rd = r.join(reader, { participant: 'r', name: 'R', canWrite: false });
    r.join(bystander, { participant: 'b', name: 'B', canWrite: false });
    r.receive(rd, syncFrame(Frame.notesSync, (e) => syncProtocol.writeSyncStep1(e, new Y.Doc())));
    const edit = new Y.Doc();
    edit.getText('notes').insert(0, 'hello');
    r.receive(w, syncFrame(Frame.notesSync, (e) => syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(edit))));
    expect(stored).toHaveLength(1);
    const readerDoc = new Y.Doc();
    applyFrames(readerDoc, reader.sent, Frame.notesSync);
    expect(readerDoc.getText('notes').toString()).toBe('hello');
    expect(bystander.sent).toHaveLength(1);
  });

  it('refuses frames that are not protocol messages', () => {
    const r = room();
    const conn = r.join(socket(), { participant: 'p', name: 'Ada', canWrite: true });
    expect(() => r.receive(conn, new Uint8Array([9]))).toThrow(new BadFrameError('unknown frame kind 9'));
    expect(() => r.receive(conn, new Uint8Array([]))).toThrow(BadFrameError);
  });
});
