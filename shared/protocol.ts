// The WebSocket protocol between a lab and its participants, shared by the
// server and the web client. docs/PROTOCOL.md describes it in prose.
//
// Binary frames carry Yjs: the first varuint says what follows, numbered as
// y-websocket numbers them so a stock y-websocket provider can watch a lab's
// state document and presence. Text frames carry the JSON messages below.
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** First varuint of a binary frame. */
export const Frame = {
  /** y-protocols sync message for the state document (server-written, read-only for clients). */
  stateSync: 0,
  /** y-protocols awareness update (presence). */
  awareness: 1,
  /** Asks the server to send every presence state it holds. */
  queryAwareness: 3,
  /** y-protocols sync message for the shared notes document (positions, notes). */
  notesSync: 100,
} as const;

export const Role = z.enum(['owner', 'editor', 'viewer']);
export type Role = z.infer<typeof Role>;

export const ROLE_RUNS_COMMANDS: Record<Role, boolean> = { owner: true, editor: true, viewer: false };

/** WebSocket close codes: every way the server ends a connection. */
export const CloseCode = {
  /** The server is shutting down; reconnect later. */
  goingAway: 1001,
  /** A text frame that is not UTF-8 (ws closes with this code itself). */
  invalidPayload: 1007,
  /** A frame larger than the server accepts (ws closes with this code itself). */
  messageTooBig: 1009,
  /** The server hit a bug; the lab is unaffected. */
  internalError: 1011,
  /** A binary frame that is not a well-formed protocol message. */
  badFrame: 4400,
  /** The token is valid but for another lab: the connection is closed as soon as it opens. */
  forbidden: 4403,
  /** The lab was deleted by its owner. */
  labDeleted: 4404,
  /** The connection stopped reading and fell too far behind (`maxBufferedBytes`); reconnect to resync. */
  fellBehind: 4408,
  /** The same participant opened another connection to this lab. */
  replaced: 4409,
  /** A class lab was reset by the instructor: it goes on as a new lab, which the class names (GET /api/classes/:id/me). */
  labMoved: 4410,
  /** Too many messages: the connection exceeded its rate limit and kept going. */
  rateLimited: 4429,
  /** The lab could not be kept consistent with the store (store down, or changed by another server). */
  labUnavailable: 4503,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const LIMITS = {
  /** Longest command line, in characters. */
  commandChars: 4096,
  /** Largest text (JSON) frame, in bytes. */
  textFrameBytes: 16 * 1024,
  /** Largest binary frame, in bytes; larger frames end the connection with `messageTooBig`. */
  binaryFrameBytes: 256 * 1024,
  /** Largest presence state, in bytes of JSON. */
  presenceBytes: 1024,
  clientIdChars: 64,
  terminalIdChars: 32,
} as const;

const clientId = z.string().min(1).max(LIMITS.clientIdChars);
const terminalId = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _').max(LIMITS.terminalIdChars);

/** One command line as typed: a single line of printable text. */
export const commandLine = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.commandChars, `must be at most ${LIMITS.commandChars} characters`)
  .refine((line) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(line), 'must be one line without control characters');

export const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), protocol: z.number().int() }),
  /** Runs `line` in the participant's terminal `terminal` (created on `host` at first use). */
  z.strictObject({ type: z.literal('exec'), id: clientId, terminal: terminalId, host: z.string().min(1).max(64), line: commandLine }),
  /** Ctrl-C for the command the participant started with this id. */
  z.strictObject({ type: z.literal('interrupt'), id: clientId }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export interface TerminalState {
  terminal: string;
  host: string;
  /** Namespace entered with `ip netns exec NS bash`, or null in the host's own. */
  ns: string | null;
  /** Command lines typed in this terminal, oldest first. */
  history: string[];
}

export type ErrorCode =
  | 'bad_json'
  | 'bad_message'
  | 'message_too_large'
  | 'protocol_version'
  | 'forbidden'
  | 'rate_limited'
  | 'unknown_host'
  | 'terminal_host'
  | 'not_running'
  | 'lab_full'
  | 'read_only'
  | 'unavailable';

/** A message from a class's instructor, to the whole class or to one student (`to`). */
export const InstructorMessage = z.strictObject({
  type: z.literal('message'),
  from: z.string().max(64),
  to: z.enum(['class', 'you']),
  text: z.string().min(1).max(2000),
  at: z.string(),
});
export type InstructorMessage = z.infer<typeof InstructorMessage>;

/** A class member as a lab knows them: their participant id there, and their name. */
const LabMember = z.strictObject({ participant: z.string(), name: z.string() });

/** What a class lab's participants need to know of their class: whether it is locked, who drives a group lab, and who is in the group. */
export const ClassState = z.strictObject({
  type: z.literal('class'),
  class: z.string(),
  locked: z.boolean(),
  /** The member who types in a group lab; null in solo mode. */
  driver: LabMember.nullable(),
  /** The group's members in the order they joined, the driver among them (whom the driver may hand over to); empty in solo mode. */
  members: z.array(LabMember),
});
export type ClassState = z.infer<typeof ClassState>;

export type ServerMessage =
  | InstructorMessage
  | ClassState
  | {
      type: 'welcome';
      protocol: number;
      lab: string;
      title: string;
      role: Role;
      participant: string;
      name: string;
      hosts: string[];
      terminals: TerminalState[];
    }
  /** The command is durable in the lab's log and has started; `seq` is its place in the log. */
  | { type: 'accepted'; id: string; seq: number }
  | { type: 'output'; id: string; data: string }
  | { type: 'exit'; id: string; exitCode: number; interrupted: boolean; ns: string | null; startedUs: number; endedUs: number }
  /** `id` names the message the error answers, when it answers one. */
  | { type: 'error'; id?: string; code: ErrorCode; message: string };

/** Hops kept in an activity entry's packet path. */
export const PATH_HOPS_KEPT = 32;

/** A place a command's packets crossed: a device, or a namespace itself (`device` null, e.g. a routing decision that found no route). */
export const PathHop = z.strictObject({
  /** The namespace's view key: `hostA` or `hostA/red`. */
  where: z.string(),
  device: z.string().nullable(),
  /** What the packets first did there (the tracer's step: xmit, recv, route, forward, deliver, drop…). */
  step: z.string(),
});
export type PathHop = z.infer<typeof PathHop>;

/** Where the last packet that died died, and why, in the tracer's words ("not addressed to hostB, and it does not forward (net.ipv4.ip_forward is 0)"). */
export const PathDrop = z.strictObject({ where: z.string(), device: z.string().nullable(), reason: z.string() });
export type PathDrop = z.infer<typeof PathDrop>;

/** The packet path of an activity entry (its `path` and `drop` fields); `path` is null for a command that sends no packets. */
export const PacketPath = z.strictObject({ path: z.array(PathHop).max(PATH_HOPS_KEPT).nullable(), drop: PathDrop.nullable() });
export type PacketPath = z.infer<typeof PacketPath>;

/** One command in the state document's `running` map or `activity` array (the server writes it). */
export interface ActivityEntry extends PacketPath {
  seq: number;
  participant: string;
  name: string;
  host: string;
  /** The terminal's namespace when the command started, null for the host's own. */
  ns: string | null;
  line: string;
  startUs: number;
  endUs: number | null;
  exitCode: number | null;
  interrupted: boolean;
  output: string;
}

/** A participant's presence, as clients may set it; the server fills in `name`. */
export const Presence = z.strictObject({
  name: z.string().max(64).optional(),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #1a2b3c').optional(),
  host: z.string().max(64).nullable().optional(),
  ns: z.string().max(64).nullable().optional(),
  typing: z.boolean().optional(),
  /** What the participant points at for everyone (pair troubleshooting): a device key (`hostA#2`) or a namespace key (`hostA/red`). */
  point: z.string().max(80).nullable().optional(),
});
export type Presence = z.infer<typeof Presence>;

/**
 * A presence state as the server relays it: what its client set, the
 * participant's name, and `instructor: true` when the server knows the
 * connection is the class's instructor (their lab token). Clients cannot set
 * either: `name` is overwritten, `instructor` is not a field of `Presence`.
 */
export const RelayedPresence = Presence.extend({ name: z.string().max(64), instructor: z.literal(true).optional() });
export type RelayedPresence = z.infer<typeof RelayedPresence>;
