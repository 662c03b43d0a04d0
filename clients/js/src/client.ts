// quarry(): the client object. Every model is a property (a Proxy makes any name work), every
// operation a method that POSTs its arguments to /db/<ns>/v1/<model>/<op> and resolves to the
// answer's `data`, or rejects with a QuarryError (errors.ts).

import { NetworkError, errorFromResponse } from './errors.js';
import type { AnySpec, Client, ModelApi, OperationName, TxStep } from './types.js';
import { encodeArguments } from './values.js';
import { RealtimeConnection } from './realtime.js';
import type { ChangeEvent, SubscribeArgs, SubscribeOptions, Subscription, WebSocketConstructor } from './realtime.js';

/** The part of a fetch Response the client reads. */
export interface FetchResponse {
  status: number;
  text(): Promise<string>;
}

/** A fetch function: the global one, or any with the same shape (undici, a test double). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<FetchResponse>;

export interface QuarryOptions {
  /**
   * The server: `http://host:port` (with `namespace`, or alone for the server's default
   * namespace), or a database URL that already ends in `/db/<namespace>`.
   */
  url: string;
  /**
   * Sent as `Authorization: Bearer <token>`: a token, or a function returning one per request
   * (for tokens that are refreshed). Leave it out for a server run with `--no-auth`.
   */
  token?: string | null | (() => string | null | undefined | Promise<string | null | undefined>);
  /** The namespace (database); not needed when `url` ends in `/db/<namespace>`. */
  namespace?: string;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: FetchLike;
  /** More headers for every request. */
  headers?: Record<string, string>;
  /**
   * The WebSocket class `subscribe` uses (default: globalThis.WebSocket, as in browsers and
   * Node 22+; on Node 20 pass the `ws` package's).
   */
  WebSocket?: WebSocketConstructor;
  /** subscribe's reconnects: the first wait, doubling up to the longest (250 ms, 10 s). */
  reconnectDelayMs?: { min?: number; max?: number };
}

const kOperations: readonly OperationName[] = [
  'findMany',
  'findFirst',
  'findUnique',
  'findFirstOrThrow',
  'findUniqueOrThrow',
  'findManyAndCount',
  'findManyCursor',
  'count',
  'exists',
  'aggregate',
  'groupBy',
  'search',
  'create',
  'createMany',
  'update',
  'updateMany',
  'upsert',
  'upsertMany',
  'delete',
  'deleteMany',
  'remove',
  'removeMany',
  'restore',
];

/** The operations' names, as the server spells them. */
export const operations: readonly OperationName[] = kOperations;

/**
 * The data API's base URL (ending in /v1) for `url` and `namespace`. Throws a TypeError naming
 * what is wrong with them.
 */
export function dataApiBase(url: string, namespace?: string): string {
  const match = /^(https?:\/\/[^/?#]+)(\/[^?#]*)?$/i.exec(url ?? '');
  if (!match) {
    throw new TypeError(
      `quarry: url must be an http(s) URL without query or fragment, such as http://127.0.0.1:8080, got ${JSON.stringify(url)}`,
    );
  }
  const origin = match[1]!;
  let path = (match[2] ?? '').replace(/\/+$/, '');
  const db = /\/db\/([^/]+)$/.exec(path);
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
    throw new TypeError('quarry: namespace must be a non-empty string');
  }
  if (db) {
    const named = decodeURIComponent(db[1]!);
    if (namespace !== undefined && namespace !== named) {
      throw new TypeError(`quarry: url names namespace '${named}' but the namespace option is '${namespace}'`);
    }
  } else if (/\/v1$/.test(path)) {
    throw new TypeError(`quarry: give the server's or the database's URL, without /v1: ${JSON.stringify(url)}`);
  } else if (namespace !== undefined) {
    path += `/db/${encodeURIComponent(namespace)}`;
  }
  return `${origin}${path}/v1`;
}

type Transport = (path: string, body: unknown) => Promise<unknown>;

function makeTransport(options: QuarryOptions): Transport {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('quarry: expected options {url, token?, namespace?, fetch?}');
  }
  const base = dataApiBase(options.url, options.namespace);
  const fetchFn = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof fetchFn !== 'function') {
    throw new TypeError('quarry: no global fetch here; pass options.fetch');
  }
  const token = options.token;
  const extra = options.headers ?? {};
  return async (path, body) => {
    const url = base + path;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
    const bearer = typeof token === 'function' ? await token() : token;
    if (bearer) {
      headers['authorization'] = `Bearer ${bearer}`;
    }
    const payload = encodeArguments(body ?? {});
    let status: number;
    let text: string;
    try {
      const response = await fetchFn(url, { method: 'POST', headers, body: payload });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      throw new NetworkError(url, cause);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status === 200 && json !== null && typeof json === 'object' && 'data' in json) {
      return (json as { data: unknown }).data;
    }
    throw errorFromResponse(status, json, text, url);
  };
}

type Subscriber = (model: string, args: SubscribeArgs, onChange: (event: ChangeEvent) => void, options?: SubscribeOptions) => Subscription;

function modelApi(
  name: string,
  send: (model: string, op: OperationName, args: unknown) => unknown,
  subscribe?: Subscriber,
): ModelApi<AnySpec> {
  const api: Record<string, (...args: unknown[]) => unknown> = {};
  if (subscribe) {
    api['subscribe'] = (args: unknown, onChange: unknown, options?: unknown) =>
      subscribe(name, (args ?? {}) as SubscribeArgs, onChange as (event: ChangeEvent) => void, options as SubscribeOptions);
  }
  for (const op of kOperations) {
    api[op] =
      op === 'search'
        ? (first: unknown, rest?: unknown) =>
            send(name, op, typeof first === 'string' ? { ...(rest as object | undefined), query: first } : first)
        : (args?: unknown) => send(name, op, args);
  }
  return api as unknown as ModelApi<AnySpec>;
}

// An object whose every other property is the model of that name.
function modelsProxy<T extends object>(own: T, make: (name: string) => unknown): T {
  const cache = new Map<string, unknown>();
  return new Proxy(own, {
    get(target, prop, receiver) {
      if (typeof prop !== 'string' || prop in target) {
        return Reflect.get(target, prop, receiver);
      }
      // Not thenable: `await db` and returning db from an async function give db itself.
      if (prop === 'then') {
        return undefined;
      }
      let model = cache.get(prop);
      if (model === undefined) {
        model = make(prop);
        cache.set(prop, model);
      }
      return model;
    },
  });
}

function checkModelName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`quarry: a model name is a non-empty string, got ${JSON.stringify(name)}`);
  }
  return name;
}

function transactionBuilder(): unknown {
  const step = (model: string, op: OperationName, args: unknown): TxStep<unknown> => ({
    model,
    op,
    args: (args ?? {}) as object,
  });
  return modelsProxy({ model: (name: string) => modelApi(checkModelName(name), step) }, (name) =>
    modelApi(name, step),
  );
}

function checkOps(ops: unknown): Array<{ model: string; op: string; args: unknown }> {
  if (!Array.isArray(ops)) {
    throw new TypeError('quarry: transaction takes an array of {model, op, args} or a function returning one');
  }
  return ops.map((o: unknown, i: number) => {
    const entry = o as { model?: unknown; op?: unknown; args?: unknown } | null;
    if (entry === null || typeof entry !== 'object' || typeof entry.model !== 'string' || typeof entry.op !== 'string') {
      throw new TypeError(`quarry: transaction op ${i} is not {model, op, args}`);
    }
    if (entry.args !== undefined && (entry.args === null || typeof entry.args !== 'object')) {
      throw new TypeError(`quarry: transaction op ${i}'s args is not an object`);
    }
    return { model: entry.model, op: entry.op, args: entry.args ?? {} };
  });
}

/**
 * A client for one namespace of a Quarry server. `DB` describes the models: the `Database`
 * interface that `quarry types` generates, or a map of model names to row types; without it
 * every model is untyped.
 *
 *   const db = quarry<Database>({ url: 'http://127.0.0.1:8080', namespace: 'blog', token });
 *   const posts = await db.posts.findMany({ where: { published: true } });
 */
export function quarry<DB extends object = { [model: string]: AnySpec }>(options: QuarryOptions): Client<DB> {
  const transport = makeTransport(options);
  const run = (model: string, op: OperationName, args: unknown) =>
    transport(`/${encodeURIComponent(model)}/${op}`, args ?? {});
  let realtime: RealtimeConnection | null = null;
  const subscribe: Subscriber = (model, args, onChange, subscribeOptions) => {
    realtime ??= new RealtimeConnection({
      url: `${dataApiBase(options.url, options.namespace).replace(/^http/i, 'ws')}/realtime`,
      token: options.token,
      WebSocket: options.WebSocket,
      minDelayMs: options.reconnectDelayMs?.min,
      maxDelayMs: options.reconnectDelayMs?.max,
    });
    return realtime.subscribe(model, args, onChange, subscribeOptions);
  };
  const own = {
    query: (spec: unknown) => {
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
        return Promise.reject(new TypeError('quarry: query takes {"<key>": {args, model?, op?}, ...}'));
      }
      return transport('/query', spec);
    },
    transaction: (ops: unknown) => {
      try {
        const list = checkOps(typeof ops === 'function' ? ops(transactionBuilder()) : ops);
        return transport('/transaction', { ops: list });
      } catch (error) {
        return Promise.reject(error);
      }
    },
    model: (name: string) => modelApi(checkModelName(name), run, subscribe),
  };
  return modelsProxy(own, (name) => modelApi(name, run, subscribe)) as unknown as Client<DB>;
}
