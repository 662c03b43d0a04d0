// db.<model>.subscribe(): realtime change events over one WebSocket per client (the
// quarry-realtime-v1 protocol of docs/realtime.md), reconnected on its own with every
// subscription resumed from the last whole transaction it delivered, so a dropped connection
// loses nothing and repeats nothing.

import { errorFromResponse } from './errors.js';

/** One row change, as the server sends it. */
export interface ChangeEvent<Row = { [field: string]: unknown }> {
  op: 'insert' | 'update' | 'delete' | 'enter' | 'leave';
  /** The committed transaction's sequence number (all changes of a transaction share it). */
  seq: number;
  model: string;
  /** The row after the change (insert, update, enter), shaped by `select` and field rules. */
  row?: Partial<Row>;
  /** The row before it (update, delete, leave). */
  old?: Partial<Row>;
  /** True on the subscription's last change of the transaction. */
  last?: boolean;
}

export interface SubscribeArgs<W = unknown, Sel = unknown> {
  where?: W;
  select?: Sel;
  /** Deliver the changes after this sequence number first (from the server's change log). */
  since?: number;
}

export interface SubscribeOptions {
  /** The subscription ended with an error the server named (a bad where, a refused token). */
  onError?: (error: Error) => void;
  /**
   * The server cannot resume the subscription without a gap (past the change log's retention,
   * or the namespace was recreated): it has ended; reload, then subscribe again without since.
   */
  onReset?: (reason: string, seq: number) => void;
}

export interface Subscription {
  /** The last sequence number whose changes were all delivered (undefined before `ready`). */
  readonly seq: number | undefined;
  /** Resolves with the position the subscription started after; rejects on a refusal. */
  readonly ready: Promise<number>;
  /** Ends the subscription (and the socket, when it was the last). */
  close(): void;
}

/** What the client needs of a WebSocket: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocol: string) => WebSocketLike;

export interface RealtimeOptions {
  /** The realtime endpoint: ws(s)://host/db/<ns>/v1/realtime. */
  url: string;
  token?: string | null | (() => string | null | undefined | Promise<string | null | undefined>);
  WebSocket?: WebSocketConstructor;
  /** Waits between reconnects: from `minDelayMs`, doubling up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

interface Sub {
  id: string;
  model: string;
  where: unknown;
  select: unknown;
  seq: number | undefined;
  // The wait before resubscribing after an UNAVAILABLE reset; back to the minimum on a change.
  retryDelay: number;
  onChange: (event: ChangeEvent) => void;
  options: SubscribeOptions;
  resolveReady: (seq: number) => void;
  rejectReady: (error: Error) => void;
  readySettled: boolean;
}

const kOpen = 1;

// The host's timers (every JavaScript runtime has them; the client is built without DOM or
// Node types).
const timers = globalThis as unknown as {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

/** One socket shared by a client's subscriptions. */
export class RealtimeConnection {
  private socket: WebSocketLike | null = null;
  private subs = new Map<string, Sub>();
  private nextId = 1;
  private delay: number;
  private timer: unknown = null;

  constructor(private readonly options: RealtimeOptions) {
    this.delay = options.minDelayMs ?? 250;
  }

  subscribe(model: string, args: SubscribeArgs, onChange: (event: ChangeEvent) => void, options: SubscribeOptions = {}): Subscription {
    if (typeof onChange !== 'function') {
      throw new TypeError('quarry: subscribe(args, onChange): onChange must be a function');
    }
    if (args !== undefined && (args === null || typeof args !== 'object')) {
      throw new TypeError('quarry: subscribe takes {where?, select?, since?}');
    }
    const since = args?.since;
    if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) {
      throw new TypeError(`quarry: since must be a sequence number (an integer >= 0), got ${JSON.stringify(since)}`);
    }
    let resolveReady!: (seq: number) => void;
    let rejectReady!: (error: Error) => void;
    const ready = new Promise<number>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    ready.catch(() => {});  // reported through onError too; an unawaited ready is not unhandled
    const sub: Sub = {
      id: `s${this.nextId++}`,
      model,
      where: args?.where,
      select: args?.select,
      seq: since,
      retryDelay: this.options.minDelayMs ?? 250,
      onChange,
      options,
      resolveReady,
      rejectReady,
      readySettled: false,
    };
    this.subs.set(sub.id, sub);
    if (this.socket?.readyState === kOpen) {
      this.sendSubscribe(sub);
    } else if (this.socket === null && this.timer === null) {
      this.connect();
    }
    return {
      get seq() {
        return sub.seq;
      },
      ready,
      close: () => this.unsubscribe(sub, true),
    };
  }

  private unsubscribe(sub: Sub, tellServer: boolean): void {
    if (!this.subs.delete(sub.id)) {
      return;
    }
    if (tellServer && this.socket?.readyState === kOpen) {
      this.socket.send(JSON.stringify({ type: 'unsubscribe', id: sub.id }));
    }
    if (this.subs.size === 0) {
      this.shutdown();
    }
  }

  private shutdown(): void {
    if (this.timer !== null) {
      timers.clearTimeout(this.timer);
      this.timer = null;
    }
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      socket.onopen = null;
      socket.close(1000, 'no subscriptions left');
    }
  }

  private connect(): void {
    const Ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof Ctor !== 'function') {
      const error = new TypeError('quarry: no global WebSocket here (Node < 22); pass the `ws` package as options.WebSocket');
      for (const sub of [...this.subs.values()]) {
        this.fail(sub, error);
      }
      return;
    }
    const socket = new Ctor(this.options.url, 'quarry-realtime-v1');
    this.socket = socket;
    socket.onopen = () => {
      void this.opened(socket);
    };
    socket.onmessage = (event) => this.received(String(event.data));
    socket.onerror = () => {};  // followed by onclose
    socket.onclose = () => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  private async opened(socket: WebSocketLike): Promise<void> {
    const source = this.options.token;
    let token: string | null | undefined;
    try {
      token = typeof source === 'function' ? await source() : source;
    } catch (error) {
      socket.close(1000, 'no token');
      for (const sub of [...this.subs.values()]) {
        this.fail(sub, error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    if (this.socket !== socket || socket.readyState !== kOpen) {
      return;
    }
    if (token) {
      socket.send(JSON.stringify({ type: 'hello', token }));
    }
    for (const sub of this.subs.values()) {
      this.sendSubscribe(sub);
    }
  }

  private sendSubscribe(sub: Sub): void {
    const message: Record<string, unknown> = { type: 'subscribe', id: sub.id, model: sub.model };
    if (sub.where !== undefined) message.where = sub.where;
    if (sub.select !== undefined) message.select = sub.select;
    if (sub.seq !== undefined) message.since = sub.seq;
    this.socket!.send(JSON.stringify(message));
  }

  private scheduleReconnect(): void {
    if (this.subs.size === 0) {
      return;
    }
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.options.maxDelayMs ?? 10_000);
    this.timer = timers.setTimeout(() => {
      this.timer = null;
      if (this.subs.size > 0) {
        this.connect();
      }
    }, wait);
  }

  private received(text: string): void {
    let message: { type?: string; id?: string; sub?: string; seq?: number; code?: string; reason?: string; error?: unknown; last?: boolean };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    switch (message.type) {
      case 'hello_ok':
        this.delay = this.options.minDelayMs ?? 250;
        return;
      case 'subscribed': {
        const sub = this.subs.get(message.id ?? '');
        if (!sub) return;
        this.delay = this.options.minDelayMs ?? 250;
        if (sub.seq === undefined) sub.seq = message.seq;
        if (!sub.readySettled) {
          sub.readySettled = true;
          sub.resolveReady(message.seq ?? 0);
        }
        return;
      }
      case 'change': {
        const sub = this.subs.get(message.sub ?? '');
        if (!sub) return;
        const { type: _type, sub: _sub, ...event } = message as Record<string, unknown>;
        if (message.last && typeof message.seq === 'number') {
          sub.seq = message.seq;
          sub.retryDelay = this.options.minDelayMs ?? 250;
        }
        sub.onChange(event as unknown as ChangeEvent);
        return;
      }
      case 'progress': {
        // Every transaction up to seq was handled for the subscription: resume from there.
        const sub = this.subs.get(message.sub ?? '');
        if (sub && typeof message.seq === 'number') sub.seq = message.seq;
        return;
      }
      case 'reset': {
        const sub = this.subs.get(message.sub ?? '');
        if (!sub) return;
        const seq = message.seq ?? sub.seq ?? 0;
        const open = this.socket?.readyState === kOpen;
        if ((message.code === 'TOO_SLOW' || message.code === 'SCHEMA_CHANGED') && open) {
          // Too slow (it has drained), or a new schema: resume from what was delivered.
          sub.seq = seq;
          this.sendSubscribe(sub);
          return;
        }
        if (message.code === 'UNAVAILABLE' && open) {
          // The server could not evaluate for a moment: resume after a wait that grows while
          // it keeps failing.
          sub.seq = seq;
          const wait = sub.retryDelay;
          sub.retryDelay = Math.min(sub.retryDelay * 2, this.options.maxDelayMs ?? 10_000);
          timers.setTimeout(() => {
            if (this.subs.get(sub.id) === sub && this.socket?.readyState === kOpen) this.sendSubscribe(sub);
          }, wait);
          return;
        }
        // CHANGES_GONE (or a server that sends no code): resuming cannot work.
        this.unsubscribe(sub, false);
        sub.options.onReset?.(message.reason ?? 'reset', seq);
        return;
      }
      case 'error': {
        const sub = message.id ? this.subs.get(message.id) : undefined;
        const code = (message.error as { code?: unknown } | undefined)?.code;
        const status = code === 'FORBIDDEN' ? 403 : code === 'UNAUTHORIZED' ? 401 : 400;
        const error = errorFromResponse(status, message.error ? message : undefined, text, this.options.url);
        if (sub) {
          this.unsubscribe(sub, false);
          this.fail(sub, error);
        } else {
          for (const each of [...this.subs.values()]) {
            this.unsubscribe(each, false);
            this.fail(each, error);
          }
        }
        return;
      }
      default:
        return;
    }
  }

  private fail(sub: Sub, error: Error): void {
    this.subs.delete(sub.id);
    if (!sub.readySettled) {
      sub.readySettled = true;
      sub.rejectReady(error);
    }
    sub.options.onError?.(error);
    if (this.subs.size === 0) {
      this.shutdown();
    }
  }
}
