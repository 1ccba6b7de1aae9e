// Types of connect-tracking. Connect's types keep the names and snake_case fields of the
// ShipEngine Connect carrier API specification 4.8.7 (components.schemas).

/** ShipEngine's standardized status codes. */
export type StandardizedStatusCodes =
  | 'UN' // Unknown
  | 'AC' // Accepted
  | 'IT' // In transit
  | 'DE' // Delivered
  | 'EX' // Exception
  | 'AT' // Delivery attempted
  | 'NY' // Not yet in system
  | 'SP'; // Delivered to the collection location

export type UpdateMethods = 'append' | 'replace';

export interface LatLong {
  lat?: number;
  long?: number;
}

export interface Dimensions {
  length?: number | null;
  width?: number | null;
  height?: number | null;
}

export interface Service {
  code?: string | null;
  name?: string | null;
}

/** A tracking event of a shipment. Times are RFC 3339; `event_datetime` is in UTC. */
export interface TrackEvent {
  event_datetime?: string;
  event_datetime_local?: string | null;
  event_code?: string | null;
  description?: string | null;
  city?: string | null;
  state?: string | null;
  postal_code?: string | null;
  country?: string | null;
  company?: string | null;
  signer?: string | null;
  geo?: LatLong;
  status_code?: StandardizedStatusCodes;
}

/** Tracking information for a shipment. */
export interface TrackingInfo {
  carrier_name?: string | null;
  tracking_number?: string | null;
  standardized_status_code: StandardizedStatusCodes;
  carrier_status_code?: string | null;
  carrier_status_description?: string | null;
  shipped_datetime?: string | null;
  estimated_delivery_datetime?: string | null;
  actual_delivery_datetime?: string | null;
  shipping_problem_description?: string | null;
  weight?: number | null;
  dimensions?: Dimensions;
  service?: Service;
  packaging?: string | null;
  package_count?: number | null;
  events?: TrackEvent[] | null;
  shipping_problem?: boolean;
  shipping_problem_code?: string | null;
  error_description?: string | null;
}

/** One item yielded by ImportTrackingEvents: a shipment, or a bad record's messages. */
export interface ImportedTrackingEvent {
  tracking_info?: TrackingInfo;
  update_method?: UpdateMethods;
  error_messages?: string[] | null;
  warning_messages?: string[] | null;
}

export interface Authorization {
  access_token?: string | null;
  token_type?: string | null;
  expires_at?: string | null;
  [key: string]: unknown;
}

interface BaseRequest {
  transaction_id: string;
  authorization?: Authorization;
  metadata?: Record<string, unknown> | null;
  connection_name?: string | null;
}

export type ImportTrackingEventsRequest = BaseRequest;

export interface TrackingIdentifier {
  type?: string | null;
  value?: string | null;
}

export interface TrackingAttribute {
  type: string | null;
  value: string | null;
}

export interface TrackingRequest extends BaseRequest {
  identifiers?: TrackingIdentifier[] | null;
  attributes?: TrackingAttribute[] | null;
}

export interface TrackingResponse {
  metadata?: Record<string, unknown> | null;
  tracking_info: TrackingInfo;
}

/** Counts reported at the end of an import. */
export interface ImportSummary {
  /** Data records read, bad ones included. */
  records: number;
  /** Events yielded, after duplicates were removed. */
  events: number;
  shipments: number;
  /** Bad records, each yielded as an `error_messages` item. */
  errors: number;
  warnings: number;
  duplicates: number;
  /** Bytes read from the source, before decompression. */
  bytes: number;
  /** U+FFFD characters written for malformed bytes (in a chunk that had any, a U+FFFD the file itself contained counts too). */
  replacements: number;
}

/**
 * Options of an import. The first `next()` checks them before the import starts and
 * rejects a value of the wrong type with a 400 `OPTION_INVALID` error.
 */
export interface ImportOptions {
  /**
   * Aborting stops the producer, closes the source and rejects with the signal's reason,
   * also while a `next()` waits for a stalled source. Any object with `aborted`,
   * `addEventListener` and `removeEventListener` is accepted.
   */
  signal?: AbortSignal | null;
  /**
   * A file path or URL that replaces the profile's source, as a string or a `URL` object.
   * The URL may be http:, https: (the scheme in any case, as in `HTTPS://`) or file:, which
   * is read as a local path. A string with another scheme followed by `//`, such as
   * `ftp://`, is rejected with `OPTION_INVALID`. A `file:` string must contain an absolute
   * path, as in `file:///data/scans.csv` or `file:/data/scans.csv`, and on Windows a drive
   * letter may follow `file:` directly, as in `file:C:/data/scans.csv`. A relative path such
   * as `file:scans.csv`, or `file:` with no path, is rejected with `OPTION_INVALID`, so write
   * a relative file as a plain path. Other strings are paths.
   */
  source?: string | URL | null;
  /** Items per native call, from 1 to 1000000; the default is 256. */
  batchSize?: number | null;
  /**
   * Called with the counts when the import reaches the end of its source, before a fatal
   * error rejects it. It is not called after an abort, `break`, `return()` or `throw()`.
   * A returned promise is awaited, without a time limit, before the generator finishes.
   *
   * An exception thrown by onSummary, or a rejection of its promise, never hides how the
   * import ended. After a fatal error, the generator throws the import's error, and its
   * `details.on_summary_error` contains the exception's message. After an import without
   * a fatal error, the generator rethrows the exception.
   */
  onSummary?: ((summary: ImportSummary) => void | Promise<void>) | null;
}

/**
 * Returns an async generator of the imported items.
 *
 * `request` is typed as the Connect host passes it. The runtime is more lenient, for calls
 * by hand: a missing or null request counts as one without metadata, and of the request's
 * properties the import uses only `metadata`, so `transaction_id` may be left out.
 *
 * The first `next()` rejects with a 400 `REQUEST_INVALID` error when the request is not an
 * object, its `metadata` is neither an object nor null, or it cannot be converted to JSON
 * (BigInt values, circular references). It also rejects a string or key with a lone UTF-16
 * surrogate, NaN or ±Infinity, and objects and arrays nested more than 100 levels deep,
 * anywhere in the request. `details.path` names the value, as in
 * `request.metadata.account`. Null or undefined options mean no options.
 *
 * Stopping: `return()` or `throw()` called while a `next()` is still pending takes effect
 * only when that `next()` settles, because async generators queue these calls. When the
 * source stalls, that is when data arrives or the read times out
 * (`source.read_timeout_seconds`, 60 s by default). To stop an import promptly, abort
 * `options.signal`, which also settles the pending `next()`.
 */
export type ImportTrackingEventsFunction = (
  request: ImportTrackingEventsRequest,
  options?: ImportOptions | null,
) => AsyncGenerator<ImportedTrackingEvent, void, undefined>;

export type TrackFunction = (request: TrackingRequest) => Promise<TrackingResponse>;

export interface Carrier {
  ImportTrackingEvents: ImportTrackingEventsFunction;
  Track: TrackFunction;
}

/** A carrier profile; docs/profile.md documents every option. */
export type CarrierProfile = Record<string, unknown>;

/**
 * Validates the profile (an object or JSON text) and throws a 400 `PROFILE_INVALID` error
 * when it is invalid. The error's `details.problems` lists the problems found as
 * `{ path, message }`. A profile that is not an object (such as undefined, null, a number,
 * an array or a function), or JSON text of such a value, is one problem at the path
 * `(root)`. The exception is a value that JSON.stringify throws on, such as a BigInt or a
 * circular reference. Its details have no `problems`, and `details.reason` gives the cause.
 * JSON text may start with a byte order mark.
 *
 * Validation runs in two steps (see Validation in docs/profile.md). Reading the profile
 * stops at the first problem. Such problems are JSON syntax errors, unknown or repeated
 * keys, values of the wrong type, strings or keys with a lone UTF-16 surrogate, NaN or
 * ±Infinity, and nesting more than 100 levels deep. A syntax error or a repeated key is
 * reported with its line and column, any other problem with its JSON path. The remaining
 * checks run only when reading succeeds, and they report every problem they find.
 */
export function createCarrier(profile: CarrierProfile | string): Carrier;

/**
 * ImportTrackingEvents with the profile from connect-tracking.json. The first `next()`
 * rejects with 400 `PROFILE_NOT_FOUND` when no profile file is found or it cannot be read,
 * and with 400 `PROFILE_INVALID` naming the file in the message and in
 * `details.profile_file` when the profile is invalid.
 */
export const ImportTrackingEvents: ImportTrackingEventsFunction;

/** Track with the profile from connect-tracking.json. */
export const Track: TrackFunction;

/** Returns the file ImportTrackingEvents and Track read their profile from, or null if none. */
export function findProfileFile(start?: string): string | null;

/** An error in the shape the Connect host recognises. */
export class ConnectTrackingError extends Error {
  isIntentional: boolean;
  /** 400 bad request, 401 unauthorized, 429 rate limited, 520 carrier server error, 500 internal. */
  statusCode: number;
  /** A machine-readable name such as SOURCE_NOT_FOUND. */
  code: string;
  details?: Record<string, unknown>;
  /** Set on every 429: the server's Retry-After in seconds (at most 86400), or 60 when it sent none. */
  retryAfterSeconds?: number;
}
