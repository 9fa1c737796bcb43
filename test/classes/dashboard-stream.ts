// An instructor's dashboard as a program: the class's Server-Sent Events
// stream read with fetch. Used by the class tests and the class benchmark.
import type { DashboardEvent } from '../../server/classes/class-service';

export class DashboardStream {
  readonly events: DashboardEvent[] = [];
  /** Called with each event as it arrives (the benchmark's clock). */
  onEvent: ((event: DashboardEvent) => void) | null = null;
  private waiters: Array<() => void> = [];

  private constructor(private readonly abort: AbortController) {}

  static async open(baseUrl: string, classId: string, token: string): Promise<DashboardStream> {
    const abort = new AbortController();
    const res = await fetch(`${baseUrl}/api/classes/${classId}/events?token=${encodeURIComponent(token)}`, { signal: abort.signal });
    if (res.status !== 200) throw new Error(`event stream: ${res.status} ${await res.text()}`);
    const stream = new DashboardStream(abort);
    void stream.read(res.body!);
    return stream;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          const parsed = { event, data: JSON.parse(data) } as DashboardEvent;
          this.events.push(parsed);
          this.onEvent?.(parsed);
          for (const wake of this.waiters.splice(0)) wake();
        }
      }
    } catch {
      // aborted
    }
  }

  /** Resolves with the first event (from `from` on) that `match` accepts. */
  next(match: (event: DashboardEvent) => boolean, from = 0, timeoutMs = 5000): Promise<DashboardEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a dashboard event')), timeoutMs);
      const test = () => {
        const found = this.events.slice(from).find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else this.waiters.push(test);
      };
      test();
    });
  }

  close(): void {
    this.abort.abort();
  }
}
