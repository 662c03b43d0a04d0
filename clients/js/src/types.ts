// The types of the data API's arguments and results, and how a database description (the
// `Database` interface `quarry types` generates, or a plain map of model names to row types)
// becomes the typed client. Types only: nothing here exists at run time.

import type { BigIntString, BlobInput, IntegerInput, JsonValue } from './values.js';
import type { ChangeEvent, SubscribeOptions, Subscription } from './realtime.js';

export type SortDir = 'asc' | 'desc';
/** "asc" | "desc", or {dir, nulls} to place NULLs first or last. */
export type SortOrder = SortDir | { dir?: SortDir; sort?: SortDir; nulls?: 'first' | 'last' };

/** Comparison operators on one field; `not` keeps NULL rows. */
export interface Filter<T> {
  equals?: T | null;
  not?: T | null | Filter<T>;
  in?: T[];
  notIn?: T[];
  lt?: T;
  lte?: T;
  gt?: T;
  gte?: T;
}

/** Operators on a Text field: comparisons and case-sensitive (or `mode: "insensitive"`) matching. */
export interface StringFilter<T extends string = string> extends Filter<T> {
  not?: T | null | StringFilter<T>;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  mode?: 'default' | 'insensitive';
}

/** Operators on a Json field, or on the value at `path` inside it. */
export interface JsonFilter {
  path?: string | Array<string | number>;
  equals?: JsonValue;
  not?: JsonValue | JsonFilter;
  in?: JsonValue[];
  notIn?: JsonValue[];
  lt?: JsonValue;
  lte?: JsonValue;
  gt?: JsonValue;
  gte?: JsonValue;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  mode?: 'default' | 'insensitive';
}

/** A list field (`Text[]`) compares as a whole array. */
export interface ListFilter<T> {
  equals?: T[];
  not?: T[] | ListFilter<T>;
}

/** A condition on a to-one relation: the related row matches (`is`), or not (`isNot`). */
export type ToOneFilter<W> = W | { is?: W | null; isNot?: W | null } | null;

/** A condition on a to-many relation: some, every or none of the related rows match. */
export interface ToManyFilter<W> {
  some?: W;
  every?: W;
  none?: W;
}

/** SQL for conditions `where` cannot express; service tokens only. Params bind `?` in order. */
export type RawWhere = string | { sql: string; params?: JsonValue[] };

/** The logical operators every model's `where` takes. */
export interface LogicalWhere<W> {
  AND?: W | W[];
  OR?: W[];
  NOT?: W | W[];
  $raw?: RawWhere;
}

/** Ordering by an aggregate of a to-many relation. */
export interface ToManyOrderBy<F extends string> {
  _count?: SortOrder;
  _sum?: { [K in F]?: SortOrder };
  _avg?: { [K in F]?: SortOrder };
  _min?: { [K in F]?: SortOrder };
  _max?: { [K in F]?: SortOrder };
}

/** Arguments of a to-one relation in `select`/`include`. */
export interface ToOneArgs<Sel, Inc> {
  select?: Sel;
  include?: Inc;
  withDeleted?: boolean;
}

/** Arguments of a to-many relation in `select`/`include`. */
export interface ToManyArgs<Sel, Inc, W, O> {
  select?: Sel;
  include?: Inc;
  where?: W;
  orderBy?: O | O[];
  limit?: number;
  offset?: number;
  withDeleted?: boolean;
  onlyDeleted?: boolean;
}

/** `_count` in `select`/`include`: counts of to-many relations, optionally filtered. */
export type CountSelect<C> = boolean | { select: C };

/** An atomic update of a number field (one key). */
export type NumberUpdate<T> =
  | { increment: T }
  | { decrement: T }
  | { multiply: T }
  | { divide: T }
  | { set: T | null };

/** Writing a to-one relation: create the related row, connect an existing one, or disconnect. */
export type ToOneWrite<C, W> = { create: C } | { connect: W } | { disconnect: true };

/** Writing a to-many relation: create related rows or connect existing ones. */
export interface ToManyWrite<C, W> {
  create?: C | C[];
  connect?: W | W[];
}

/** A window function column of findMany. */
export interface WindowSpec<F extends string, O> {
  rowNumber?: true;
  rank?: true;
  denseRank?: true;
  cumeDist?: true;
  percentRank?: true;
  sum?: F;
  avg?: F;
  min?: F;
  max?: F;
  count?: F | true;
  lag?: F;
  lead?: F;
  partitionBy?: F | F[];
  orderBy?: O | O[];
  rows?: [number | null, number | null];
  [option: string]: unknown;
}

/**
 * The types of one model: what its reads return and what its arguments take. `quarry types`
 * generates one per model; `RowSpec` derives a looser one from a row type alone. The brand
 * tells a ModelSpec from a row type in a database description.
 */
export interface ModelSpec {
  readonly __quarryModel: true;
  row: object;
  where: object;
  orderBy: object;
  select: object;
  include: object;
  create: object;
  update: object;
  field: string;
}

type FilterOf<V> = [NonNullable<V>] extends [string]
  ? V | StringFilter<NonNullable<V> & string>
  : [NonNullable<V>] extends [Array<infer E>]
    ? V | ListFilter<E>
    : [NonNullable<V>] extends [number]
      ? V | IntegerInput | Filter<NonNullable<V> | IntegerInput>
      : [NonNullable<V>] extends [boolean]
        ? V | Filter<boolean>
        : V | Filter<NonNullable<V>> | JsonFilter | ToManyFilter<object> | { is?: object | null; isNot?: object | null };

/** `where` derived from a row type: its fields, each with its filters, and the logical operators. */
export type RowWhere<R> = { [K in keyof R]?: FilterOf<R[K]> } & LogicalWhere<RowWhere<R>>;

/** The spec `quarry<DB>` uses for a model given as a plain row type. */
export interface RowSpec<R extends object> extends ModelSpec {
  row: R;
  where: RowWhere<R>;
  orderBy: { [K in keyof R]?: SortOrder };
  select: { [K in keyof R]?: boolean | object } & { _count?: CountSelect<object> };
  include: { [K in keyof R]?: boolean | object } & { _count?: CountSelect<object> };
  create: { [K in keyof R]?: R[K] | (R[K] extends number ? IntegerInput : never) | (R[K] extends { $base64: string } ? BlobInput : never) };
  update: { [K in keyof R]?: R[K] | (R[K] extends number ? IntegerInput | NumberUpdate<number> : never) | (R[K] extends { $base64: string } ? BlobInput : never) };
  field: keyof R & string;
}

/** Rows of a model nothing is known about. */
export type AnyRow = { [field: string]: any };

/** The spec of a model nothing is known about: any field, any value. */
export interface AnySpec extends ModelSpec {
  row: AnyRow;
  where: { [field: string]: any };
  orderBy: { [field: string]: any };
  select: { [field: string]: any };
  include: { [field: string]: any };
  create: { [field: string]: any };
  update: { [field: string]: any };
  field: string;
}

/** The ModelSpec of one entry of a database description. */
export type SpecOf<T> = T extends ModelSpec ? T : T extends object ? RowSpec<T> : AnySpec;

type Chosen<S> = { [K in keyof S]: S[K] extends false | undefined | null ? never : K }[keyof S];

/** A row shaped by `select` (only the chosen fields) or `include` (relations filled in). */
export type Shaped<S extends ModelSpec, Sel, Inc> = [Sel] extends [object]
  ? { [K in Chosen<Sel> & keyof S['row']]: Exclude<S['row'][K], undefined> }
  : [Inc] extends [object]
    ? Omit<S['row'], Chosen<Inc>> & { [K in Chosen<Inc> & keyof S['row']]: Exclude<S['row'][K], undefined> }
    : S['row'];

type OrderByArg<S extends ModelSpec> = S['orderBy'] | S['orderBy'][];

export interface FindManyArgs<S extends ModelSpec> {
  where?: S['where'];
  orderBy?: OrderByArg<S>;
  limit?: number;
  offset?: number;
  distinct?: boolean;
  withDeleted?: boolean;
  onlyDeleted?: boolean;
  window?: { [column: string]: WindowSpec<S['field'], S['orderBy']> };
}
export interface FindFirstArgs<S extends ModelSpec> {
  where?: S['where'];
  orderBy?: OrderByArg<S>;
  offset?: number;
  withDeleted?: boolean;
  onlyDeleted?: boolean;
}
export interface FindUniqueArgs<S extends ModelSpec> {
  where: S['where'];
  withDeleted?: boolean;
  onlyDeleted?: boolean;
}
export interface FindManyCursorArgs<S extends ModelSpec> {
  where?: S['where'];
  orderBy?: OrderByArg<S>;
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
  withDeleted?: boolean;
  onlyDeleted?: boolean;
}
export interface CountArgs<S extends ModelSpec> {
  where?: S['where'];
  withDeleted?: boolean;
  onlyDeleted?: boolean;
}

type FieldFlags<F extends string> = { [K in F]?: boolean };

/** aggregate's arguments: `_count`, `_sum`, ... and named aggregates `_<name>: {fn, filter}`. */
export interface AggregateArgs<S extends ModelSpec> {
  where?: S['where'];
  _count?: true | FieldFlags<S['field']> | { distinct: S['field'] };
  _sum?: FieldFlags<S['field']>;
  _avg?: FieldFlags<S['field']>;
  _min?: FieldFlags<S['field']>;
  _max?: FieldFlags<S['field']>;
  _stringAgg?: { field: S['field']; separator?: string; orderBy?: S['field'] };
  [named: `_${string}`]: unknown;
}

/** aggregate's result: one member per aggregate asked for. */
export interface AggregateResult<F extends string = string> {
  _count?: number | { [K in F]?: number };
  _sum?: { [K in F]?: number | null };
  _avg?: { [K in F]?: number | null };
  _min?: { [K in F]?: unknown };
  _max?: { [K in F]?: unknown };
  [named: `_${string}`]: unknown;
}

export interface GroupByArgs<S extends ModelSpec> extends AggregateArgs<S> {
  by: S['field'] | S['field'][];
  having?: { [aggregate: string]: unknown };
  orderBy?: { [key: string]: SortOrder } | Array<{ [key: string]: SortOrder }>;
  limit?: number;
  offset?: number;
  interval?: { [K in S['field']]?: 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' };
  fillGaps?: boolean;
}

/** One group: the `by` fields' values and the aggregates. */
export type GroupByRow<S extends ModelSpec> = Partial<S['row']> & AggregateResult<S['field']>;

export interface SearchArgs<S extends ModelSpec> {
  query: string;
  where?: S['where'];
  limit?: number;
  offset?: number;
  highlight?: unknown;
  snippet?: unknown;
}

/** A search hit: the row and the search's own members (`_rank`, highlights, snippets). */
export type SearchHit<S extends ModelSpec> = S['row'] & { [extra: `_${string}`]: unknown };

export interface CreateArgs<S extends ModelSpec> {
  data: S['create'];
}
export interface CreateManyArgs<S extends ModelSpec> {
  data: S['create'][];
  skipDuplicates?: boolean;
}
export interface UpdateArgs<S extends ModelSpec> {
  where: S['where'];
  data: S['update'];
}
export interface UpdateManyArgs<S extends ModelSpec> {
  where?: S['where'];
  data: S['update'];
}
export interface UpsertArgs<S extends ModelSpec> {
  where: S['where'];
  create: S['create'];
  update: S['update'];
}
export interface UpsertManyArgs<S extends ModelSpec> {
  data: S['create'][];
  /** The unique key a row conflicts on (default: the @id). */
  conflictTarget?: S['field'] | S['field'][];
  /** Which fields an existing row takes from the new one (default: all). */
  update?: boolean | S['field'][];
}
export interface WhereArgs<S extends ModelSpec> {
  where: S['where'];
}
export interface WhereManyArgs<S extends ModelSpec> {
  where?: S['where'];
}

/** `{count}`: what bulk writes return. */
export interface BatchResult {
  count: number;
}

/** findManyAndCount's result: one page and the total of matching rows. */
export interface RowsAndTotal<R> {
  rows: R[];
  total: number;
}

/** findManyCursor's result: one page and the cursor of the next (null on the last). */
export interface CursorPage<R> {
  items: R[];
  nextCursor: string | null;
  hasMore: boolean;
}

type Shape<S extends ModelSpec> = { select?: S['select']; include?: S['include'] };

/**
 * What `ModelApi`'s methods give back: a Promise of the result when run directly, a
 * transaction step when building a transaction (`db.transaction(tx => [...])`).
 */
export type Out<M extends 'run' | 'tx', R> = M extends 'run' ? Promise<R> : TxStep<R>;

/** One model's operations (POST /v1/<model>/<op>). */
export interface ModelApi<S extends ModelSpec, M extends 'run' | 'tx' = 'run'> {
  /**
   * Realtime: `onChange` gets every committed change of the model that `where` matches (and the
   * token may read), over one WebSocket per client, reconnected and resumed by itself
   * (docs/realtime.md). Not available inside a transaction.
   */
  subscribe: M extends 'run'
    ? <Sel extends S['select'] | undefined = undefined>(
        args: { where?: S['where']; select?: Sel; since?: number },
        onChange: (event: ChangeEvent<Shaped<S, Sel, undefined>>) => void,
        options?: SubscribeOptions,
      ) => Subscription
    : never;
  findMany<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args?: FindManyArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc>[]>;
  findFirst<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args?: FindFirstArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc> | null>;
  findUnique<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: FindUniqueArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc> | null>;
  /** As findFirst; NotFoundError when no row matches. */
  findFirstOrThrow<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args?: FindFirstArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc>>;
  /** As findUnique; NotFoundError when no row matches. */
  findUniqueOrThrow<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: FindUniqueArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc>>;
  findManyAndCount<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args?: FindManyArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, RowsAndTotal<Shaped<S, Sel, Inc>>>;
  findManyCursor<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args?: FindManyCursorArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, CursorPage<Shaped<S, Sel, Inc>>>;
  count(args?: CountArgs<S>): Out<M, number>;
  exists(args?: CountArgs<S>): Out<M, boolean>;
  aggregate(args: AggregateArgs<S>): Out<M, AggregateResult<S['field']>>;
  groupBy(args: GroupByArgs<S>): Out<M, GroupByRow<S>[]>;
  /** Full-text search on a @@fts model: `search({query, ...})` or `search(query, {...})`. */
  search(args: SearchArgs<S>): Out<M, SearchHit<S>[]>;
  search(query: string, args?: Omit<SearchArgs<S>, 'query'>): Out<M, SearchHit<S>[]>;

  create<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: CreateArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc>>;
  createMany(args: CreateManyArgs<S>): Out<M, BatchResult>;
  /** The updated row, or null when no row matched (or the caller may not update it). */
  update<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: UpdateArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc> | null>;
  updateMany(args: UpdateManyArgs<S>): Out<M, BatchResult>;
  upsert<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: UpsertArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc>>;
  upsertMany(args: UpsertManyArgs<S>): Out<M, BatchResult>;
  /** Deletes the row for good; the deleted row, or null when none matched. */
  delete<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: WhereArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc> | null>;
  deleteMany(args?: WhereManyArgs<S>): Out<M, BatchResult>;
  /** Soft-deletes on a @@softDelete model (else deletes); the row, or null. */
  remove<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: WhereArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc> | null>;
  removeMany(args?: WhereManyArgs<S>): Out<M, BatchResult>;
  /** Brings soft-deleted rows back; the restored rows. */
  restore<Sel extends S['select'] | undefined = undefined, Inc extends S['include'] | undefined = undefined>(
    args: WhereArgs<S> & { select?: Sel; include?: Inc },
  ): Out<M, Shaped<S, Sel, Inc>[]>;
}

/** The operations' names. */
export type OperationName =
  | ReadOperationName
  | 'create'
  | 'createMany'
  | 'update'
  | 'updateMany'
  | 'upsert'
  | 'upsertMany'
  | 'delete'
  | 'deleteMany'
  | 'remove'
  | 'removeMany'
  | 'restore';
/** The operations /v1/query runs (reads). */
export type ReadOperationName =
  | 'findMany'
  | 'findFirst'
  | 'findUnique'
  | 'findFirstOrThrow'
  | 'findUniqueOrThrow'
  | 'findManyAndCount'
  | 'findManyCursor'
  | 'count'
  | 'exists'
  | 'aggregate'
  | 'groupBy'
  | 'search';

type SelOf<A> = A extends { select: infer X } ? X : undefined;
type IncOf<A> = A extends { include: infer X } ? X : undefined;

/** The result of operation `Op` with arguments `A` on a model of spec `S`. */
export type ResultOf<S extends ModelSpec, Op, A = {}> = Op extends OperationName
  ? {
      findMany: Shaped<S, SelOf<A>, IncOf<A>>[];
      findFirst: Shaped<S, SelOf<A>, IncOf<A>> | null;
      findUnique: Shaped<S, SelOf<A>, IncOf<A>> | null;
      findFirstOrThrow: Shaped<S, SelOf<A>, IncOf<A>>;
      findUniqueOrThrow: Shaped<S, SelOf<A>, IncOf<A>>;
      findManyAndCount: RowsAndTotal<Shaped<S, SelOf<A>, IncOf<A>>>;
      findManyCursor: CursorPage<Shaped<S, SelOf<A>, IncOf<A>>>;
      count: number;
      exists: boolean;
      aggregate: AggregateResult<S['field']>;
      groupBy: GroupByRow<S>[];
      search: SearchHit<S>[];
      create: Shaped<S, SelOf<A>, IncOf<A>>;
      createMany: BatchResult;
      update: Shaped<S, SelOf<A>, IncOf<A>> | null;
      updateMany: BatchResult;
      upsert: Shaped<S, SelOf<A>, IncOf<A>>;
      upsertMany: BatchResult;
      delete: Shaped<S, SelOf<A>, IncOf<A>> | null;
      deleteMany: BatchResult;
      remove: Shaped<S, SelOf<A>, IncOf<A>> | null;
      removeMany: BatchResult;
      restore: Shaped<S, SelOf<A>, IncOf<A>>[];
    }[Op]
  : unknown;

/** A database description: model names to ModelSpecs (generated) or row types. */
export type DatabaseShape = { [model: string]: object };

/** The names `quarry()` keeps for itself; such a model is reached with `db.model(name)`. */
export type ReservedName = 'query' | 'transaction' | 'model' | 'then';

type ModelNames<DB> = keyof DB & string;
type SpecAt<DB, M> = M extends keyof DB ? SpecOf<DB[M]> : AnySpec;

/** One entry of db.query: the read's arguments, and `model`/`op` when not the key / findMany. */
export type QueryEntry<DB> = {
  model?: string extends keyof DB ? string : ModelNames<DB>;
  op?: ReadOperationName;
  [argument: string]: unknown;
};

type EntryModel<K, E> = E extends { model: infer M extends string } ? M : K;
type EntryOp<E> = E extends { op: infer O }
  ? O
  : E extends { by: unknown }
    ? 'groupBy'
    : Extract<keyof E, `_${string}`> extends never
      ? 'findMany'
      : 'aggregate';

/** db.query's result: each key's result. */
export type QueryResult<DB, Q> = {
  [K in keyof Q]: ResultOf<SpecAt<DB, EntryModel<K, Q[K]>>, EntryOp<Q[K]>, Q[K]>;
};

/** One operation of a transaction: {model, op, args}. */
export interface TxOp<DB = DatabaseShape> {
  model: string extends keyof DB ? string : ModelNames<DB>;
  op: OperationName;
  args?: object;
}

/** A transaction step built with `tx.<model>.<op>(args)`; carries its result's type. */
export interface TxStep<R> {
  model: string;
  op: OperationName;
  args: object;
  /** Types only: the step's result. */
  readonly __result?: R;
}

// `model` keeps the pattern from being a weak type (all optional), which plain ops would not match.
type TxResult<DB, T> = T extends { model: unknown; readonly __result?: infer R }
  ? unknown extends R
    ? T extends { model: infer M; op: infer O; args?: infer A }
      ? ResultOf<SpecAt<DB, M>, O, A>
      : unknown
    : R
  : unknown;

/** A transaction's results, one per operation, in order. */
export type TransactionResult<DB, T extends readonly unknown[]> = { -readonly [I in keyof T]: TxResult<DB, T[I]> };

/** The models' steps, for `db.transaction(tx => [...])`. */
export type TxBuilder<DB> = { readonly [K in ModelNames<DB>]: ModelApi<SpecOf<DB[K]>, 'tx'> } & {
  model(name: string): ModelApi<AnySpec, 'tx'>;
};

/** The client's own methods, beside the models. */
export interface ClientMethods<DB> {
  /** Many reads in one snapshot (POST /v1/query): {key: {args, model?, op?}}. */
  query<const Q extends { [key: string]: QueryEntry<DB> }>(spec: Q): Promise<QueryResult<DB, Q>>;
  /** Writes (and reads) all or nothing (POST /v1/transaction); the results in order. */
  transaction<const T extends readonly (TxOp<DB> | TxStep<unknown>)[]>(
    ops: T | ((tx: TxBuilder<DB>) => T),
  ): Promise<TransactionResult<DB, T>>;
  /** The model `name`, for names the client keeps for itself (`query`, `transaction`, ...). */
  model<M extends string>(name: M): ModelApi<SpecAt<DB, M>>;
}

/** A client: one property per model, and the client's own methods. */
export type Client<DB> = {
  readonly [K in ModelNames<DB> as K extends ReservedName ? never : K]: ModelApi<SpecOf<DB[K]>>;
} & ClientMethods<DB>;

export type { BigIntString, JsonValue };
