// A room: the Yjs side of one lab, without any network. It serves two
// documents and presence to its connections over y-protocols:
//
// - the state document, written only by the server: updates a client sends
//   to it are dropped (unless they add nothing) and the client is told;
// - the notes document, which writers edit together and the room persists
//   through `onNotesUpdate`;
// - presence (awareness), sanitised: one state per connection, known fields,
//   the participant's own name, size- and rate-limited.
//
// Connections are anything with `send` and `close`, so tests drive a room
// directly; server/net/ plugs WebSockets in.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { Frame, LIMITS, Presence, type ErrorCode, type ServerMessage } from '../../shared/protocol';
import { TokenBucket } from './token-bucket';

export interface RoomSocket {
  send(data: Uint8Array | string): void;
  close(code: number, reason: string): void;
}

export interface Peer {
  participant: string;
  name: string;
  /** May edit the notes document. */
  canWrite: boolean;
  /** The lab's class's instructor: their presence says so (`instructor: true`), which no client can claim. */
  instructor?: boolean;
  /** Why a writer may not edit the notes just now (their class is locked), or null. */
  notesRefusal?(): string | null;
}

export class RoomConnection {
  /** The awareness client id this connection speaks for, once it has sent one. */
  awarenessClient: number | null = null;
  /** Whether the client syncs the notes document (a stock y-websocket provider does not). */
  wantsNotes = false;
  readonly presenceRate: TokenBucket;

  constructor(
    readonly socket: RoomSocket,
    readonly peer: Peer,
    presencePerSecond: number,
  ) {
    this.presenceRate = new TokenBucket(presencePerSecond, presencePerSecond * 2);
  }

  sendMessage(message: ServerMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  sendError(code: ErrorCode, message: string, id?: string): void {
    this.sendMessage(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
  }
}

/** A binary frame that is not a protocol message; the connection is closed. */
export class BadFrameError extends Error {}

export interface RoomOptions {
  /** Host names presence may point at. */
  hosts: ReadonlySet<string>;
  /** Bytes of notes updates the room accepts in all. */
  notesMaxBytes: number;
  /** Notes bytes already held (the stored snapshot and updates). */
  notesBytes: number;
  presencePerSecond: number;
  /** Called with each notes update a connection made, to persist it. */
  onNotesUpdate(update: Uint8Array): void;
  /** Called with each presence change made by this room's connections, for other server instances. */
  onPresenceUpdate?(update: Uint8Array): void;
}

/** The origin of changes that other server instances made. */
export const REMOTE = Symbol('remote');

function frame(kind: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, kind);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

export class Room {
  readonly connections = new Set<RoomConnection>();
  readonly awareness: awarenessProtocol.Awareness;
  private readonly awarenessOwners = new Map<number, RoomConnection>();
  private notesBytes: number;

  constructor(
    readonly state: Y.Doc,
    readonly notes: Y.Doc,
    private readonly options: RoomOptions,
  ) {
    this.notesBytes = options.notesBytes;
    this.awareness = new awarenessProtocol.Awareness(notes);
    this.awareness.setLocalState(null);
    state.on('update', (update: Uint8Array) => this.broadcast(frame(Frame.stateSync, (e) => syncProtocol.writeUpdate(e, update))));
    notes.on('update', (update: Uint8Array, origin: unknown) => {
      this.broadcast(frame(Frame.notesSync, (e) => syncProtocol.writeUpdate(e, update)), origin, (conn) => conn.wantsNotes);
      if (origin instanceof RoomConnection) options.onNotesUpdate(update);
    });
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...added, ...updated, ...removed]);
      this.broadcast(frame(Frame.awareness, (e) => encoding.writeVarUint8Array(e, update)));
      if (origin instanceof RoomConnection) options.onPresenceUpdate?.(update);
    });
  }

  join(socket: RoomSocket, peer: Peer): RoomConnection {
    const conn = new RoomConnection(socket, peer, this.options.presencePerSecond);
    this.connections.add(conn);
    socket.send(frame(Frame.stateSync, (e) => syncProtocol.writeSyncStep1(e, this.state)));
    this.sendAllPresence(conn);
    return conn;
  }

  leave(conn: RoomConnection): void {
    this.connections.delete(conn);
    if (conn.awarenessClient !== null) {
      this.awarenessOwners.delete(conn.awarenessClient);
      awarenessProtocol.removeAwarenessStates(this.awareness, [conn.awarenessClient], conn);
    }
  }

  /** Ends every connection and stops the presence timer. */
  close(code: number, reason: string): void {
    for (const conn of [...this.connections]) {
      this.leave(conn);
      conn.socket.close(code, reason);
    }
    this.awareness.destroy();
  }

  /** Presence from connections on another server instance (sanitised there). */
  applyRemotePresence(update: Uint8Array): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REMOTE);
  }

  /** A notes update made (and stored) on another server instance. */
  applyRemoteNotes(update: Uint8Array): void {
    this.notesBytes += update.length;
    Y.applyUpdate(this.notes, update, REMOTE);
  }

  /** Handles one binary frame; throws BadFrameError when it is not a protocol message. */
  receive(conn: RoomConnection, data: Uint8Array): void {
    try {
      const decoder = decoding.createDecoder(data);
      const kind = decoding.readVarUint(decoder);
      if (kind === Frame.stateSync) this.receiveSync(conn, decoder, Frame.stateSync, this.state, 'the state document is written by the server only');
      else if (kind === Frame.notesSync) this.receiveSync(conn, decoder, Frame.notesSync, this.notes, conn.peer.canWrite ? (conn.peer.notesRefusal?.() ?? null) : 'viewers cannot edit the notes document');
      else if (kind === Frame.awareness) this.receivePresence(conn, decoding.readVarUint8Array(decoder));
      else if (kind === Frame.queryAwareness) this.sendAllPresence(conn);
      else throw new BadFrameError(`unknown frame kind ${kind}`);
    } catch (e) {
      if (e instanceof BadFrameError) throw e;
      throw new BadFrameError(`malformed frame: ${(e as Error).message}`);
    }
  }

  /** `refusal` says why this connection's updates to `doc` are dropped, or is null when they are not. */
  private receiveSync(conn: RoomConnection, decoder: decoding.Decoder, kind: number, doc: Y.Doc, refusal: string | null): void {
    const type = decoding.readVarUint(decoder);
    if (type === syncProtocol.messageYjsSyncStep1) {
      conn.socket.send(frame(kind, (e) => syncProtocol.readSyncStep1(decoder, e, doc)));
      // Notes are sent only to clients that ask for them; they get the server's step 1 in return.
      if (kind === Frame.notesSync && !conn.wantsNotes) {
        conn.wantsNotes = true;
        conn.socket.send(frame(kind, (e) => syncProtocol.writeSyncStep1(e, doc)));
      }
      return;
    }
    if (type !== syncProtocol.messageYjsSyncStep2 && type !== syncProtocol.messageYjsUpdate) throw new BadFrameError(`unknown sync message ${type}`);
    const update = decoding.readVarUint8Array(decoder);
    // A client answering the server's sync step 1 sends what it holds; that is
    // no write when the document already has all of it.
    if (Y.snapshotContainsUpdate(Y.snapshot(doc), update)) return;
    if (refusal !== null) {
      conn.sendError('read_only', `update dropped: ${refusal}`);
      return;
    }
    if (this.notesBytes + update.length > this.options.notesMaxBytes) {
      conn.sendError('lab_full', `update dropped: the notes document is full (${this.options.notesMaxBytes} bytes)`);
      return;
    }
    this.notesBytes += update.length;
    Y.applyUpdate(doc, update, conn);
  }

  private receivePresence(conn: RoomConnection, update: Uint8Array): void {
    if (!conn.presenceRate.take()) {
      conn.sendError('rate_limited', 'presence update dropped: too many presence updates');
      return;
    }
    let sanitized: Uint8Array;
    try {
      sanitized = this.sanitizePresence(conn, update);
    } catch (e) {
      if (!(e instanceof PresenceError)) throw e;
      conn.sendError('bad_message', `presence update dropped: ${e.message}`);
      return;
    }
    awarenessProtocol.applyAwarenessUpdate(this.awareness, sanitized, conn);
  }

  /** Re-encodes a presence update keeping only known fields, with the participant's name. */
  private sanitizePresence(conn: RoomConnection, update: Uint8Array): Uint8Array {
    const decoder = decoding.createDecoder(update);
    if (decoding.readVarUint(decoder) !== 1) throw new PresenceError('one presence state per connection');
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const json = decoding.readVarString(decoder);
    if (conn.awarenessClient !== null && clientId !== conn.awarenessClient) throw new PresenceError(`this connection speaks for client ${conn.awarenessClient}`);
    const owner = this.awarenessOwners.get(clientId);
    if (owner && owner !== conn) throw new PresenceError(`client ${clientId} belongs to another connection`);
    if (json.length > LIMITS.presenceBytes) throw new PresenceError(`state larger than ${LIMITS.presenceBytes} bytes`);
    let state: unknown;
    try {
      state = JSON.parse(json);
    } catch {
      throw new PresenceError('state is not JSON');
    }
    let clean: Record<string, unknown> | null = null;
    if (state !== null) {
      const parsed = Presence.safeParse(state);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new PresenceError(`${issue.path.join('.') || 'state'}: ${issue.message}`);
      }
      if (parsed.data.host && !this.options.hosts.has(parsed.data.host)) throw new PresenceError(`host: no host "${parsed.data.host}" in this lab`);
      clean = { ...parsed.data, name: conn.peer.name, ...(conn.peer.instructor ? { instructor: true } : {}) };
    }
    conn.awarenessClient = clientId;
    this.awarenessOwners.set(clientId, conn);
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(clean));
    return encoding.toUint8Array(encoder);
  }

  private sendAllPresence(conn: RoomConnection): void {
    if (this.awareness.getStates().size === 0) return;
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]);
    conn.socket.send(frame(Frame.awareness, (e) => encoding.writeVarUint8Array(e, update)));
  }

  private broadcast(data: Uint8Array, except?: unknown, wants: (conn: RoomConnection) => boolean = () => true): void {
    for (const conn of this.connections) if (conn !== except && wants(conn)) conn.socket.send(data);
  }
}

class PresenceError extends Error {}
