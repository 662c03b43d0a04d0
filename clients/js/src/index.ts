// @quarry/client: a typed client for Quarry's JSON data API (docs/data-api.md).

export { quarry, dataApiBase, operations } from './client.js';
export type { FetchLike, FetchResponse, QuarryOptions } from './client.js';
export {
  QuarryError,
  ValidationError,
  AuthError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  RuleError,
  NetworkError,
  errorFromResponse,
} from './errors.js';
export type { ErrorBody } from './errors.js';
export { toBlob, fromBlob, toBigInt, isBigIntString, encodeBase64, decodeBase64 } from './values.js';
export type { BigIntString, BlobInput, BlobValue, IntegerInput, JsonValue } from './values.js';
export type * from './types.js';
export type { ChangeEvent, SubscribeArgs, SubscribeOptions, Subscription, WebSocketConstructor, WebSocketLike } from './realtime.js';
