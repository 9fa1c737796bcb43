// A participant as a program: a real `ws` socket with real Yjs documents,
// speaking docs/PROTOCOL.md. Used by the tests and the server benchmark.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { Frame, PROTOCOL_VERSION, type ServerMessage } from '../../shared/protocol';

export interface Closed {
  code: number;
  reason: string;
}

/** The upgrade was refused with an HTTP status. */
export class RefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`refused with ${status}: ${body}`);
  }
}

const REMOTE = Symbol('remote');

export class LabClient {
  readonly state = new Y.Doc();
  readonly notes = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.notes);
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  private readonly synced = new Set<number>();
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    this.awareness.setLocalState(null);
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.receive(new Uint8Array(data as Buffer));
      else this.messages.push(JSON.parse((data as Buffer).toString()) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.notes.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.sendFrame(Frame.notesSync, (e) => syncProtocol.writeUpdate(e, update));
    });
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === REMOTE) return;
      const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...added, ...updated, ...removed]);
      this.sendFrame(Frame.awareness, (e) => encoding.writeVarUint8Array(e, update));
    });
  }

  /** Opens a connection to `/ws/LAB?token=TOKEN` and starts syncing the state document, and the notes unless `notes` is false. */
  static connect(baseUrl: string, lab: string, token: string, options: { origin?: string; notes?: boolean } = {}): Promise<LabClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/${lab}?token=${encodeURIComponent(token)}`, { origin: options.origin });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => reject(new RefusedError(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
      ws.once('open', () => {
        const client = new LabClient(ws);
        client.sendFrame(Frame.stateSync, (e) => syncProtocol.writeSyncStep1(e, client.state));
        if (options.notes === false) client.synced.add(Frame.notesSync);
        else client.sendFrame(Frame.notesSync, (e) => syncProtocol.writeSyncStep1(e, client.notes));
        resolve(client);
      });
    });
  }

  private receive(data: Uint8Array): void {
    const decoder = decoding.createDecoder(data);
    const kind = decoding.readVarUint(decoder);
    if (kind === Frame.awareness) {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), REMOTE);
      return;
    }
    const doc = kind === Frame.stateSync ? this.state : this.notes;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, kind);
    const type = syncProtocol.readSyncMessage(decoder, encoder, doc, REMOTE);
    if (type === syncProtocol.messageYjsSyncStep2) this.synced.add(kind);
    if (encoding.length(encoder) > 1) this.ws.send(encoding.toUint8Array(encoder));
  }

  /**
   * Changes the state document here and sends the change, as a client that
   * writes it would. The state document has no update listener otherwise:
   * Yjs encodes every update for such a listener, and an observer that never
   * writes should not pay for it.
   */
  writeState(change: (doc: Y.Doc) => void): void {
    const before = Y.encodeStateVector(this.state);
    this.state.transact(() => change(this.state));
    this.sendFrame(Frame.stateSync, (e) => syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(this.state, before)));
  }

  sendFrame(kind: number, write: (encoder: encoding.Encoder) => void): void {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, kind);
    write(encoder);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encoding.toUint8Array(encoder));
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves once `check` holds, re-checking after every message; rejects after `timeoutMs`. */
  until<T>(check: () => T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const test = () => {
        const value = check();
        if (value !== undefined && value !== false) {
          clearTimeout(timer);
          resolve(value);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          clearTimeout(timer);
          reject(new Error(`the connection closed before ${what}`));
        } else this.waiters.push(test);
      };
      test();
    });
  }

  /** Waits until both documents have their first full sync from the server. */
  whenSynced(): Promise<true> {
    return this.until(() => this.synced.has(Frame.stateSync) && this.synced.has(Frame.notesSync), 5000, 'sync');
  }

  /** The first message (from `from` on) matching `match`. */
  message<T extends ServerMessage['type']>(type: T, match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, from = 0): Promise<Extract<ServerMessage, { type: T }>> {
    return this.until(() => this.messages.slice(from).find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && match(m as Extract<ServerMessage, { type: T }>)), 5000, `a ${type} message`);
  }

  async hello(): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    const from = this.messages.length;
    this.send({ type: 'hello', protocol: PROTOCOL_VERSION });
    return this.message('welcome', () => true, from);
  }

  /** Runs a command and waits for its end: its output and exit message. */
  async exec(id: string, host: string, line: string, terminal = 't1'): Promise<{ output: string; exit: Extract<ServerMessage, { type: 'exit' }> }> {
    const from = this.messages.length;
    this.send({ type: 'exec', id, terminal, host, line });
    const exit = await this.until(() => this.messages.slice(from).find((m) => (m.type === 'exit' || m.type === 'error') && m.id === id), 10_000, `the end of ${id}`);
    if (exit.type === 'error') throw new Error(`${exit.code}: ${exit.message}`);
    return { output: this.outputOf(id, from), exit: exit as Extract<ServerMessage, { type: 'exit' }> };
  }

  outputOf(id: string, from = 0): string {
    return this.messages
      .slice(from)
      .filter((m): m is Extract<ServerMessage, { type: 'output' }> => m.type === 'output' && m.id === id)
      .map((m) => m.data)
      .join('');
  }

  close(): Promise<Closed> {
    this.awareness.destroy();
    this.ws.close();
    return this.closed;
  }
}
