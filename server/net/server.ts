// The nslab server: the HTTP API and the WebSocket gateway on one port,
// over one store.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '../../shared/protocol';
import { ClassService, DEFAULT_CLASS_SETTINGS, type ClassSettings } from '../classes/class-service';
import { Labs } from '../labs/labs';
import { DEFAULT_INTERRUPT_US } from '../sim/lab';
import type { LabLimits } from '../labs/live-lab';
import { loadTemplates } from '../labs/templates';
import type { Store } from '../store/types';
import { createApi } from './http-api';
import { Gateway } from './ws-gateway';
import { Tokens } from './tokens';

export interface ServerSettings extends ClassSettings {
  /** Signs tokens; when null one is generated once and kept in the store. */
  secret: string | null;
  publicUrl: string | null;
  allowedOrigins: string[] | null;
  maxLabs: number;
  maxConnections: number;
  limits: LabLimits;
  idleMs: number;
  requestsPerSecond: number;
  framesPerSecond: number;
  commandsPerSecond: number;
  presencePerSecond: number;
  bodyLimitBytes: number;
  streamLimitUs: number;
  runLimitUs: number;
  notesCompactEvery: number;
  snapshotEvery: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  ...DEFAULT_CLASS_SETTINGS,
  secret: null,
  publicUrl: null,
  allowedOrigins: null,
  maxLabs: 1000,
  maxConnections: 5000,
  limits: { namespaces: 64, devices: 256, rules: 256, logEntries: 20_000, notesMaxBytes: 1024 * 1024 },
  idleMs: 5 * 60_000,
  requestsPerSecond: 50,
  framesPerSecond: 100,
  commandsPerSecond: 25,
  presencePerSecond: 10,
  bodyLimitBytes: 256 * 1024,
  streamLimitUs: 30 * 60_000_000,
  // As `replay`: a command that would run forever is interrupted after a minute of simulated time.
  runLimitUs: DEFAULT_INTERRUPT_US,
  notesCompactEvery: 200,
  snapshotEvery: 100,
  heartbeatMs: 30_000,
  maxBufferedBytes: 8 * 1024 * 1024,
};

export interface NslabServer {
  http: Server;
  labs: Labs;
  classes: ClassService;
  gateway: Gateway;
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Ends connections (1001), unloads labs and stops listening; the store stays open. */
  close(): Promise<void>;
}

export async function createNslabServer(store: Store, overrides: Partial<ServerSettings> = {}): Promise<NslabServer> {
  const settings = { ...DEFAULT_SETTINGS, ...overrides };
  const secret = settings.secret ?? (await store.secret(randomBytes(32).toString('base64url')));
  const tokens = new Tokens(secret);
  const labs = new Labs({ store, ...settings });
  const templates = loadTemplates();
  const classes = new ClassService({ labs, tokens, templates, ...settings });
  await classes.listen();
  labs.hooks = classes;
  const app = createApi({ labs, classes, tokens, templates, ...settings });
  const gateway = new Gateway({ labs, tokens, ...settings });
  const http = createServer(app);
  http.on('upgrade', (req, socket, head) => void gateway.upgrade(req, socket, head));
  return {
    http,
    labs,
    classes,
    gateway,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => resolve(http.address() as AddressInfo));
      }),
    close: async () => {
      classes.close();
      gateway.close(CloseCode.goingAway, 'server shutting down');
      await labs.closeAll(CloseCode.goingAway, 'server shutting down');
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
