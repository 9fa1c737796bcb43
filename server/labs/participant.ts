// One participant's connection to a lab: the JSON messages of the protocol
// (hello, exec, interrupt) and the command output routed back to them.
// Yjs frames go to the room; this handles the text frames.
import { ClientMessage, LIMITS, PROTOCOL_VERSION, ROLE_RUNS_COMMANDS, CloseCode, type Role, type ServerMessage } from '../../shared/protocol';
import type { RoomConnection } from '../collab/room';
import { TokenBucket } from '../collab/token-bucket';
import type { CommandRecord } from './lab-host';
import { LabError, type LiveLab } from './live-lab';

export interface Identity {
  participant: string;
  name: string;
  role: Role;
}

export class ParticipantSession {
  private readonly commandRate: TokenBucket;

  constructor(
    private readonly lab: LiveLab,
    readonly conn: RoomConnection,
    private readonly identity: Identity,
    commandsPerSecond: number,
  ) {
    this.commandRate = new TokenBucket(commandsPerSecond, commandsPerSecond * 2);
  }

  get participant(): string {
    return this.identity.participant;
  }

  private send(message: ServerMessage): void {
    this.conn.sendMessage(message);
  }

  /** Another connection of the same participant took over. */
  replaced(): void {
    this.conn.socket.close(CloseCode.replaced, 'replaced by a newer connection of the same participant');
  }

  handleText(text: string): void {
    if (Buffer.byteLength(text) > LIMITS.textFrameBytes) {
      this.conn.sendError('message_too_large', `message larger than ${LIMITS.textFrameBytes} bytes`);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      this.conn.sendError('bad_json', `malformed JSON: ${(e as Error).message}`);
      return;
    }
    const parsed = ClientMessage.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id.slice(0, LIMITS.clientIdChars) : undefined;
      this.conn.sendError('bad_message', `${issue.path.join('.') || 'message'}: ${issue.message}`, id);
      return;
    }
    const message = parsed.data;
    if (message.type === 'hello') this.hello(message.protocol);
    else if (message.type === 'exec') this.exec(message.id, message.terminal, message.host, message.line);
    else this.interrupt(message.id);
  }

  private hello(protocol: number): void {
    if (protocol !== PROTOCOL_VERSION) {
      this.conn.sendError('protocol_version', `this server speaks protocol ${PROTOCOL_VERSION}, not ${protocol}`);
      return;
    }
    const host = this.lab.host;
    this.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      lab: host.record.id,
      title: host.record.title,
      role: this.identity.role,
      participant: this.identity.participant,
      name: this.identity.name,
      hosts: host.hosts,
      terminals: host.terminalsOf(this.identity.participant),
    });
    this.lab.greet((message) => this.send(message));
  }

  private exec(id: string, terminal: string, hostName: string, line: string): void {
    if (!ROLE_RUNS_COMMANDS[this.identity.role]) {
      this.conn.sendError('forbidden', `a ${this.identity.role} watches; only owners and editors run commands`, id);
      return;
    }
    if (!this.commandRate.take()) {
      this.conn.sendError('rate_limited', 'too many commands; wait a moment', id);
      return;
    }
    const request = { who: this.identity.participant, name: this.identity.name, terminal, host: hostName, line, cid: id, mode: 'stream' as const };
    this.lab.exec(request, (seq) => this.send({ type: 'accepted', id, seq })).then(
      ({ record, duplicate }) => {
        if (!duplicate) return;
        // A retry: answer with what the first attempt did, and let the rest stream.
        this.send({ type: 'accepted', id, seq: record.seq });
        if (record.output) this.send({ type: 'output', id, data: record.output });
        if (record.exitCode !== null) this.commandExit(record);
      },
      (e) => this.refused(e, id),
    );
  }

  private interrupt(id: string): void {
    this.lab.interrupt(this.identity.participant, id).catch((e) => this.refused(e, id));
  }

  private refused(error: unknown, id: string): void {
    if (error instanceof LabError) this.conn.sendError(error.code === 'not_found' ? 'unavailable' : error.code, error.message, id);
    else {
      console.error(`lab ${this.lab.id}: command ${id} failed:`, error);
      this.conn.sendError('unavailable', 'the server failed to run this command', id);
    }
  }

  commandOutput(record: CommandRecord, text: string): void {
    if (record.entry.cid !== null) this.send({ type: 'output', id: record.entry.cid, data: text });
  }

  commandExit(record: CommandRecord): void {
    if (record.entry.cid === null) return;
    this.send({ type: 'exit', id: record.entry.cid, exitCode: record.exitCode!, interrupted: record.interrupted, ns: record.nsAfter, startedUs: record.startUs, endedUs: record.endUs! });
  }
}
