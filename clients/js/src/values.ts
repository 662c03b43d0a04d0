// How JavaScript values travel to and from the data API (docs/data-api.md, "Values").
//
// Results arrive as the server wrote them: an Integer is a number while |n| < 2^53 and a decimal
// string beyond, a Blob is {"$base64": "..."}, a DateTime an ISO-8601 string, Json nested JSON.
// Arguments may use the same forms, and also a `bigint` (sent as a number when it is safe, as
// a decimal string when not) and a `Uint8Array` (sent as {"$base64": ...}).

/** Any JSON value: what a `Json` field holds. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * An Integer whose magnitude is 2^53 or more, which JSON numbers cannot carry exactly: the
 * server sends it as a decimal string ("9007199254740993"). Generated row types give Integer
 * fields the type `number`; `quarry types --integer-strings` makes them `number | BigIntString`
 * for data that can hold such values. `toBigInt` reads either form.
 */
export type BigIntString = string & { readonly __quarryBigIntString: true };

/** A Blob value as the data API carries it. `toBlob`/`fromBlob` convert from and to bytes. */
export interface BlobValue {
  $base64: string;
}

/** What an Integer argument may be: a number, a bigint, or a decimal string. */
export type IntegerInput = number | bigint | BigIntString;

/** What a Blob argument may be. */
export type BlobInput = BlobValue | Uint8Array;

const kAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (with padding) of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += kAlphabet[n >> 18]! + kAlphabet[(n >> 12) & 63]! + kAlphabet[(n >> 6) & 63]! + kAlphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += kAlphabet[n >> 18]! + kAlphabet[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += kAlphabet[n >> 18]! + kAlphabet[(n >> 12) & 63]! + kAlphabet[(n >> 6) & 63]! + '=';
  }
  return out;
}

/** The bytes of standard or URL-safe base64 text (padding optional); throws on other text. */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    let d = kAlphabet.indexOf(c);
    if (c === '-') d = 62;
    if (c === '_') d = 63;
    if (d < 0) {
      throw new TypeError(`quarry: invalid base64 character ${JSON.stringify(c)} at ${i}`);
    }
    value = (value << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 255;
    }
  }
  return out.subarray(0, o);
}

/** A Blob argument holding `bytes`. */
export function toBlob(bytes: Uint8Array): BlobValue {
  return { $base64: encodeBase64(bytes) };
}

/** The bytes of a Blob result. */
export function fromBlob(blob: BlobValue): Uint8Array {
  if (blob === null || typeof blob !== 'object' || typeof blob.$base64 !== 'string') {
    throw new TypeError('quarry: expected a Blob value {"$base64": "..."}');
  }
  return decodeBase64(blob.$base64);
}

/** An Integer result (a number, or a decimal string past 2^53) as a bigint. */
export function toBigInt(value: number | string | bigint): bigint {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new TypeError(`quarry: ${value} is not an integer`);
  }
  if (typeof value === 'string' && !/^-?\d+$/.test(value)) {
    throw new TypeError(`quarry: ${JSON.stringify(value)} is not a decimal integer`);
  }
  return BigInt(value);
}

/** True when `value` is an Integer sent as a decimal string (past 2^53). */
export function isBigIntString(value: unknown): value is BigIntString {
  return typeof value === 'string' && /^-?\d+$/.test(value);
}

/** JSON text of an argument object, with bigint and Uint8Array values in their wire forms. */
export function encodeArguments(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') {
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    }
    if (v instanceof Uint8Array) {
      return toBlob(v);
    }
    return v;
  });
}
