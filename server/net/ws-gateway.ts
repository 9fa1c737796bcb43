// WebSocket connections to labs (docs/PROTOCOL.md). The token and the Origin
// are checked before the upgrade completes; the lab is the one the verified
// token names, and the URL must agree with it.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, LIMITS } from '../../shared/protocol';
import { BadFrameError, type RoomSocket } from '../collab/room';
import { TokenBucket } from '../collab/token-bucket';
import type { Labs } from '../labs/labs';
import type { LiveLab } from '../labs/live-lab';
import { ParticipantSession } from '../labs/participant';
import type { Claims, Tokens } from './tokens';

export interface GatewayOptions {
  labs: Labs;
  tokens: Tokens;
  /** Origins browsers may connect from; null allows only the server's own host. */
  allowedOrigins: string[] | null;
  maxConnections: number;
  /** Frames of any kind per connection per second (bursts of twice that); a flood closes the connection. */
  framesPerSecond: number;
  commandsPerSecond: number;
  heartbeatMs: number;
  /** Bytes a connection may fall behind by; a client that stops reading is dropped rather than buffered for. */
  maxBufferedBytes: number;
}

const PATH = /^\/ws\/([A-Za-z0-9_-]{1,64})$/;

function reject(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.binaryFrameBytes });
  private readonly alive = new WeakSet<WebSocket>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: GatewayOptions) {
    // A connection that stops answering pings is gone; free its place.
    this.heartbeat = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!this.alive.has(ws)) ws.terminate();
        else {
          this.alive.delete(ws);
          ws.ping();
        }
      }
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Browsers always send Origin; its absence means a program, which a token suffices for.
    if (origin === undefined) return true;
    if (this.options.allowedOrigins) return this.options.allowedOrigins.includes(origin);
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  /** Handles an HTTP upgrade request: refuses it with an HTTP status, or opens the connection. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = PATH.exec(url.pathname);
    if (!path) return reject(socket, 404, `no WebSocket endpoint at ${url.pathname}; use /ws/LAB_ID`);
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = url.searchParams.get('token') ?? bearer?.[1];
    if (!token) return reject(socket, 401, 'missing token: add ?token=TOKEN');
    const claims = this.options.tokens.verify(token);
    if (!claims) return reject(socket, 401, 'invalid token');
    if (!this.originAllowed(req)) return reject(socket, 403, `origin ${req.headers.origin} is not allowed`);
    // A valid token for another lab (a student trying a classmate's lab) is told with a close code, which a browser can read; an upgrade's status it cannot.
    if (claims.lab !== path[1]) return this.wss.handleUpgrade(req, socket, head, (ws) => ws.close(CloseCode.forbidden, 'this token is for another lab'));
    if (this.wss.clients.size >= this.options.maxConnections) return reject(socket, 503, 'the server has too many connections');
    let lab: LiveLab | null;
    let instructor: boolean;
    try {
      lab = await this.options.labs.get(claims.lab);
      instructor = lab !== null && claims.role === 'owner' && (await lab.isInstructor(claims.sub));
    } catch (e) {
      console.error(`lab ${claims.lab}: could not load:`, e);
      return reject(socket, 503, 'the lab could not be loaded');
    }
    if (!lab) return reject(socket, 404, `no lab "${claims.lab}"`);
    if (lab.isClosed || socket.destroyed) return reject(socket, 503, 'the lab is reloading; retry');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, lab, claims, instructor));
  }

  private connected(ws: WebSocket, lab: LiveLab, claims: Claims, instructor: boolean): void {
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    const socket: RoomSocket = {
      send: (data) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        // Nothing more is queued for a client that fell behind. Its close frame waits
        // behind what is buffered, so it arrives if the client catches up; if it
        // does not, ws destroys the socket 30 s after the close.
        if (ws.bufferedAmount > this.options.maxBufferedBytes) ws.close(CloseCode.fellBehind, 'fell too far behind; reconnect');
        else ws.send(data);
      },
      // A lab that fails to store a command closes its room before the command's
      // `unavailable` error is sent; closing on the next turn lets that error go first.
      close: (code, reason) => setImmediate(() => ws.close(code, reason)),
    };
    const conn = lab.join(socket, { participant: claims.sub, name: claims.name, canWrite: claims.role !== 'viewer', instructor });
    const session = new ParticipantSession(lab, conn, { participant: claims.sub, name: claims.name, role: claims.role }, this.options.commandsPerSecond);
    lab.attach(session);
    const frames = new TokenBucket(this.options.framesPerSecond, this.options.framesPerSecond * 2);
    ws.on('message', (data, isBinary) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (!frames.take()) {
        ws.close(CloseCode.rateLimited, 'too many messages');
        return;
      }
      // The socket's binaryType is 'nodebuffer': every message is one Buffer.
      const buffer = data as Buffer;
      try {
        if (isBinary) lab.room.receive(conn, new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
        else session.handleText(buffer.toString('utf8'));
      } catch (e) {
        if (e instanceof BadFrameError) ws.close(CloseCode.badFrame, e.message.slice(0, 120));
        else {
          console.error(`lab ${lab.id}: message handling failed:`, e);
          ws.close(CloseCode.internalError, 'internal error');
        }
      }
    });
    // A frame ws cannot accept (over the size limit, text not UTF-8, broken
    // framing): ws has already sent the close code (1009, 1007, 1002) and ends
    // the socket when the client answers, or after 30 s. Cutting it here would
    // reset the connection while the client still sends, losing that close frame.
    ws.on('error', () => {});
    ws.on('close', () => {
      lab.room.leave(conn);
      lab.detach(session);
    });
  }

  /** Ends every connection (on shutdown). */
  close(code: number, reason: string): void {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(code, reason);
    this.wss.close();
  }
}
