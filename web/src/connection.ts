// One WebSocket per participant per lab (docs/PROTOCOL.md): binary frames
// carry the state document, the notes document and presence; text frames the
// JSON messages. Reconnects with backoff; the Yjs documents outlive the
// socket, so a reconnect resyncs only what changed.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { CloseCode, Frame, PROTOCOL_VERSION, type ClientMessage, type Presence, type ServerMessage } from '../../shared/protocol';

export type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

export type ConnectionStatus =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'offline'; retryInMs: number }
  /** The connection ended for good: deleted lab, replaced by another tab, refused, or moved to a new lab by a class reset. */
  | { kind: 'closed'; reason: 'deleted' | 'replaced' | 'refused' | 'moved'; message: string };

const REMOTE = Symbol('remote');
const MAX_RETRY_MS = 4000;

export class LabConnection {
  readonly state = new Y.Doc();
  readonly notes = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.notes);
  status: ConnectionStatus = { kind: 'connecting' };
  welcome: Welcome | null = null;
  /** The server's notes document has reached us once (its sync step 2). */
  notesSynced = false;
  private ws: WebSocket | null = null;
  private retryMs = 250;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly messageListeners = new Set<(message: ServerMessage) => void>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly notesSyncedListeners = new Set<() => void>();

  constructor(
    readonly lab: string,
    readonly token: string,
  ) {
    this.notes.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.sendFrame(Frame.notesSync, (e) => syncProtocol.writeUpdate(e, update));
    });
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin !== REMOTE) this.sendAwareness([...added, ...updated, ...removed]);
    });
    this.connect();
  }

  onMessage(listener: (message: ServerMessage) => void): void {
    this.messageListeners.add(listener);
  }

  onNotesSynced(listener: () => void): void {
    this.notesSyncedListeners.add(listener);
  }

  onStatus(listener: (status: ConnectionStatus) => void): void {
    this.statusListeners.add(listener);
    listener(this.status);
  }

  /** Sends a JSON message; false when the socket is not open (nothing was sent). */
  send(message: ClientMessage): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN || this.status.kind !== 'connected') return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  setPresence(presence: Presence): void {
    this.awareness.setLocalState({ ...this.awareness.getLocalState(), ...presence });
  }

  destroy(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.awareness.destroy();
    this.ws?.close();
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/${encodeURIComponent(this.lab)}?token=${encodeURIComponent(this.token)}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = 250;
      ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION } satisfies ClientMessage));
      this.sendFrame(Frame.stateSync, (e) => syncProtocol.writeSyncStep1(e, this.state));
      this.sendFrame(Frame.notesSync, (e) => syncProtocol.writeSyncStep1(e, this.notes));
      // A new clock, so that those who dropped our state while we were away take it again.
      if (this.awareness.getLocalState()) this.awareness.setLocalState(this.awareness.getLocalState());
      this.sendFrame(Frame.queryAwareness, () => {});
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') this.receiveMessage(JSON.parse(event.data) as ServerMessage);
      else this.receiveFrame(new Uint8Array(event.data));
    };
    ws.onclose = (event) => void this.closed(event.code, event.reason, opened);
  }

  private async closed(code: number, reason: string, opened: boolean): Promise<void> {
    if (this.stopped) return;
    // Others' states are gone with the socket. Their clocks are forgotten too (unlike
    // removeAwarenessStates), so whatever the server sends after a reconnect is taken.
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.awareness.clientID);
    for (const id of others) {
      this.awareness.states.delete(id);
      this.awareness.meta.delete(id);
    }
    this.awareness.emit('change', [{ added: [], updated: [], removed: others }, REMOTE]);
    if (code === CloseCode.labDeleted) return this.setStatus({ kind: 'closed', reason: 'deleted', message: '' });
    if (code === CloseCode.replaced) return this.setStatus({ kind: 'closed', reason: 'replaced', message: '' });
    if (code === CloseCode.forbidden) return this.setStatus({ kind: 'closed', reason: 'refused', message: reason });
    if (code === CloseCode.labMoved) return this.setStatus({ kind: 'closed', reason: 'moved', message: '' });
    if (!opened) {
      // A refused upgrade is invisible to browsers; the HTTP API says why.
      const refusal = await this.refusal();
      if (refusal) return this.setStatus({ kind: 'closed', reason: 'refused', message: refusal });
    }
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.setStatus({ kind: 'offline', retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.setStatus({ kind: 'connecting' });
      this.connect();
    }, delay);
  }

  /** The API's error when the token or the lab is refused; null when it is only unreachable. */
  private async refusal(): Promise<string | null> {
    try {
      const response = await fetch(`/api/labs/${encodeURIComponent(this.lab)}`, { headers: { authorization: `Bearer ${this.token}` } });
      if (![401, 403, 404].includes(response.status)) return null;
      const body = (await response.json()) as { error?: string };
      return body.error ?? String(response.status);
    } catch {
      return null;
    }
  }

  private receiveMessage(message: ServerMessage): void {
    if (message.type === 'welcome') {
      this.welcome = message;
      this.setStatus({ kind: 'connected' });
    }
    for (const listener of this.messageListeners) listener(message);
  }

  private receiveFrame(data: Uint8Array): void {
    const decoder = decoding.createDecoder(data);
    const kind = decoding.readVarUint(decoder);
    if (kind === Frame.awareness) {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), REMOTE);
      return;
    }
    if (kind !== Frame.stateSync && kind !== Frame.notesSync) return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, kind);
    const type = syncProtocol.readSyncMessage(decoder, encoder, kind === Frame.stateSync ? this.state : this.notes, REMOTE);
    if (kind === Frame.notesSync && type === syncProtocol.messageYjsSyncStep2 && !this.notesSynced) {
      this.notesSynced = true;
      for (const listener of this.notesSyncedListeners) listener();
    }
    if (encoding.length(encoder) > 1) this.ws?.send(encoding.toUint8Array(encoder));
  }

  private sendAwareness(clients: number[]): void {
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients);
    this.sendFrame(Frame.awareness, (e) => encoding.writeVarUint8Array(e, update));
  }

  private sendFrame(kind: number, write: (encoder: encoding.Encoder) => void): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, kind);
    write(encoder);
    this.ws.send(encoding.toUint8Array(encoder));
  }
}
