// Every lab of this server: created in the store, loaded into memory on
// demand by replaying its log, and unloaded when idle.
import { randomBytes } from 'node:crypto';
import * as Y from 'yjs';
import { CloseCode } from '../../shared/protocol';
import type { BusMessage, LabRecord, Store } from '../store/types';
import { restoredHost } from './history';
import { LabHost } from './lab-host';
import { newId } from './new-id';
import { LabError, LiveLab, type LabHooks, type LiveLabOptions } from './live-lab';

export interface LabsOptions extends Omit<LiveLabOptions, 'onClosed' | 'instanceId'> {
  maxLabs: number;
}

/** The server holds as many labs as it may. */
export class TooManyLabsError extends Error {}

export interface NewLab {
  world: unknown;
  title?: string;
  seed?: number;
  classId?: string;
}

export class Labs {
  private readonly live = new Map<string, Promise<LiveLab | null>>();
  /** How this process names itself to other instances sharing the store. */
  readonly instanceId = randomBytes(6).toString('hex');
  /** Set once at start, before any lab loads. */
  hooks: LabHooks | undefined;

  constructor(private readonly options: LabsOptions) {}

  get store(): Store {
    return this.options.store;
  }

  /** Validates the world by building it (WorldFileError names what is wrong), then stores the lab. */
  async create(input: NewLab): Promise<LabRecord> {
    const count = await this.store.countLabs();
    if (count >= this.options.maxLabs) throw new TooManyLabsError(`this server holds its maximum of ${this.options.maxLabs} labs; delete one first`);
    const record: LabRecord = {
      id: newId(),
      title: input.title ?? '',
      world: input.world,
      seed: input.seed ?? 1,
      createdAt: new Date().toISOString(),
      ...(input.classId === undefined ? {} : { classId: input.classId }),
    };
    const built = new LabHost(record);
    const counts = built.counts();
    const limits = this.options.limits;
    for (const kind of ['namespaces', 'devices', 'rules'] as const) {
      if (counts[kind] > limits[kind]) throw new LabError('lab_full', `world: it has ${counts[kind]} ${kind}; a lab may hold ${limits[kind]}`);
    }
    if (!record.title) record.title = built.spec.name;
    await this.store.createLab(record);
    return record;
  }

  /** The loaded lab, loading it when needed; null when no such lab exists. */
  get(id: string): Promise<LiveLab | null> {
    let loading = this.live.get(id);
    if (!loading) {
      loading = this.load(id);
      this.live.set(id, loading);
      loading.then(
        (lab) => lab === null && this.live.delete(id),
        () => this.live.delete(id),
      );
    }
    return loading;
  }

  private async load(id: string): Promise<LiveLab | null> {
    const record = await this.store.getLab(id);
    if (!record) return null;
    // Listen before reading, so nothing another instance appends in between is missed.
    const early: BusMessage[] = [];
    let deliver = (message: BusMessage): void => {
      early.push(message);
    };
    const unsubscribe = await this.store.bus?.subscribe(id, (message) => deliver(message));
    let host: LabHost;
    try {
      host = await this.restore(record);
      for (const entry of await this.store.readLog(id, host.lastSeq)) host.apply(entry);
    } catch (e) {
      unsubscribe?.();
      throw e;
    }
    const notes = new Y.Doc();
    const stored = await this.store.readNotes(id);
    const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
    for (const update of parts) Y.applyUpdate(notes, update, 'store');
    const bytes = parts.reduce((n, u) => n + u.length, 0);
    const loading = this.live.get(id);
    const lab = new LiveLab(host, notes, { bytes, updates: stored.updates.length }, {
      ...this.options,
      instanceId: this.instanceId,
      hooks: this.hooks,
      onClosed: (closed) => {
        if (this.live.get(id) === loading) this.live.delete(id);
        closed.room.notes.destroy();
      },
    });
    if (unsubscribe) {
      lab.listening(unsubscribe);
      deliver = (message) => {
        lab.receive(message);
      };
      for (const message of early) lab.receive(message);
    } else {
      // Alone on its store, this process knows streaming commands left running by a stop belong to nobody now.
      // With other instances, the lab waits to hear who is connected to them first.
      await lab.interruptOrphans();
    }
    return lab;
  }

  /** The lab from its latest snapshot when this engine code took it, else from its world. */
  private async restore(record: LabRecord): Promise<LabHost> {
    return restoredHost(record, await this.store.readSnapshot(record.id)) ?? new LabHost(record);
  }

  /** Loaded labs, for shutdown and figures. */
  async loaded(): Promise<LiveLab[]> {
    const labs = await Promise.all([...this.live.values()].map((p) => p.catch(() => null)));
    return labs.filter((lab): lab is LiveLab => lab !== null);
  }

  async delete(id: string, code: number = CloseCode.labDeleted, reason = 'the lab was deleted'): Promise<boolean> {
    const deleted = await this.store.deleteLab(id);
    await this.store.bus?.publish(id, { kind: 'deleted' }).catch(() => undefined);
    const lab = await this.live.get(id)?.catch(() => null);
    lab?.close(code, reason);
    return deleted;
  }

  /** Closes every loaded lab (their connections get `code`). */
  async closeAll(code: number, reason: string): Promise<void> {
    for (const lab of await this.loaded()) {
      lab.close(code, reason);
      await lab.notesStored();
    }
  }
}
