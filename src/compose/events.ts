// The project's events from berthd's GET /events, as one stream that waiters subscribe to: a
// dependent service waits for its dependency's `health_status: healthy` or `die` here, told by
// the engine the moment it happens, never by polling. Open the stream before the state it waits
// on is read, so an event between the read and the wait is not lost.

import type { ApiClient, Response } from '../api/client.js';
import { L } from './labels.js';

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time: number;
  timeNano?: number | string;
}

export class ProjectEvents {
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private closed = false;
  private failure?: Error;

  private constructor(private readonly res: Response) {
    let rest = '';
    res.on('data', (chunk: Buffer) => {
      rest += chunk.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (!line) continue;
        const e = JSON.parse(line) as EngineEvent;
        for (const l of [...this.listeners]) l(e);
      }
    });
    const end = (err?: Error) => {
      if (this.closed) return;
      this.closed = true;
      this.failure = err ?? new Error('the daemon closed the event stream');
      for (const l of [...this.listeners]) l({ Type: '', Action: '', Actor: { ID: '' }, time: 0 });
    };
    res.on('error', end);
    res.on('end', () => end());
  }

  /** Opens the event stream of the project (`since` in Unix seconds gives the events from then on too). */
  static async open(client: ApiClient, project: string, extra: Record<string, string[]> = {}, since?: number): Promise<ProjectEvents> {
    const filters = JSON.stringify({ label: [`${L.project}=${project}`], ...extra });
    const res = await client.stream('GET', '/events', { query: { filters, since } });
    return new ProjectEvents(res);
  }

  /**
   * Calls `fn` with each event until it returns something other than undefined, which is resolved.
   * `handle.cancel`, set here, stops listening (the promise then never settles).
   */
  until<T>(fn: (e: EngineEvent) => T | undefined, handle: { cancel?: () => void } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const l = (e: EngineEvent) => {
        if (this.closed && this.failure) {
          this.listeners.delete(l);
          reject(this.failure);
          return;
        }
        let v: T | undefined;
        try {
          v = fn(e);
        } catch (err) {
          this.listeners.delete(l);
          reject(err as Error);
          return;
        }
        if (v !== undefined) {
          this.listeners.delete(l);
          resolve(v);
        }
      };
      handle.cancel = () => this.listeners.delete(l);
      if (this.closed) reject(this.failure);
      else this.listeners.add(l);
    });
  }

  /** Every event, until close. */
  each(fn: (e: EngineEvent) => void): void {
    this.listeners.add((e) => {
      if (!this.closed) fn(e);
    });
  }

  close(): void {
    this.closed = true;
    this.res.destroy();
  }
}
