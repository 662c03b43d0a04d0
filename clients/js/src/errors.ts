// The errors the client throws. Every failure is a QuarryError: the server's answers
// {"error": {"code", "message", "path"}} become the subclass of their HTTP status, and a request
// that got no answer (connection refused, DNS, an aborted fetch) a NetworkError.

/** The server's error body, as sent. */
export interface ErrorBody {
  code: string;
  message: string;
  path: string | null;
}

/** Base of every error the client throws. */
export class QuarryError extends Error {
  /** The HTTP status (0 when no answer came: NetworkError). */
  readonly status: number;
  /** The server's error code ("ARGS_INVALID", "NOT_FOUND", ...), or the client's own. */
  readonly code: string;
  /** The argument the error is about ("where.age.gte", "ops.1.args.data.email"), or null. */
  readonly path: string | null;

  constructor(message: string, status: number, code: string, path: string | null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.path = path;
  }
}

/** 400: the arguments are malformed (unknown field, wrong type, bad operator). */
export class ValidationError extends QuarryError {}

/** 401: no token, or one the server does not accept (bad signature, expired). */
export class AuthError extends QuarryError {}

/** 403: the token may not do this (policy, read-only token, guarded field, other namespace). */
export class ForbiddenError extends QuarryError {}

/** 404: an *OrThrow read found nothing, or the namespace does not exist. */
export class NotFoundError extends QuarryError {}

/** 409: a unique or foreign-key constraint refused the write. */
export class ConflictError extends QuarryError {}

/** 422: a schema rule (@email, @length, @gt, ...) refused a value. */
export class RuleError extends QuarryError {}

/** No answer from the server: the request could not be sent or its answer not read. */
export class NetworkError extends QuarryError {
  /** The URL the request went to. */
  readonly url: string;

  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const detail = cause instanceof Error && cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
    super(`quarry: no answer from ${url}: ${reason}${detail}`, 0, 'NETWORK_ERROR', null, { cause });
    this.url = url;
  }
}

const kByStatus: Record<number, new (...args: ConstructorParameters<typeof QuarryError>) => QuarryError> = {
  400: ValidationError,
  401: AuthError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  422: RuleError,
};

/**
 * The error for a non-200 answer. `body` is the parsed JSON (undefined when the answer was not
 * JSON, `text` holds it then): {"error": {code, message, path}}, or {"error": "message"} as
 * some doors send.
 */
export function errorFromResponse(status: number, body: unknown, text: string, url: string): QuarryError {
  const kind = kByStatus[status] ?? QuarryError;
  const error = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (error !== null && typeof error === 'object') {
    const e = error as Partial<ErrorBody>;
    const code = typeof e.code === 'string' ? e.code : `HTTP_${status}`;
    const message = typeof e.message === 'string' ? e.message : `HTTP ${status}`;
    return new kind(message, status, code, typeof e.path === 'string' ? e.path : null);
  }
  if (typeof error === 'string') {
    return new kind(error, status, `HTTP_${status}`, null);
  }
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  return new kind(
    `quarry: ${url} answered HTTP ${status} without a data API error body${excerpt ? `: ${excerpt}` : ''}`,
    status,
    status === 200 ? 'BAD_RESPONSE' : `HTTP_${status}`,
    null,
  );
}
