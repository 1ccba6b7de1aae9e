'use strict';

// Checks the arguments of createCarrier and ImportTrackingEvents and converts them for the
// native binding. Every rejection is a 400 ConnectTrackingError that names the argument,
// shows the value and states what to pass, so a Connect host reports it like any bad request.

const { fileURLToPath } = require('node:url');
const { inspect } = require('node:util');

const { badRequest } = require('./errors.js');

const MAX_BATCH_SIZE = 1_000_000;

// Formats a value for an error message, as in `'hello' (string)` or `[ 1 ] (array)`.
function describe(value) {
  if (value === null) return 'null';
  const kind = Array.isArray(value) ? 'array' : typeof value;
  const formatted = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 100 });
  return `${formatted} (${kind})`;
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Serializes `value` and returns the JSON text, or the reason it cannot be serialized.
function toJson(value) {
  try {
    return { json: JSON.stringify(value) };
  } catch (error) {
    // A circular structure's message continues with the path on further lines.
    return { reason: String(error?.message ?? error).split('\n')[0], error };
  }
}

// Returns the profile as JSON text for checkProfile; a string is taken as JSON text already.
function profileToJson(profile) {
  if (typeof profile === 'string') return profile;
  const { json, reason, error } = toJson(profile);
  if (reason !== undefined) {
    const rejection = badRequest(
      `the carrier profile cannot be converted to JSON (${reason}); pass an object of JSON values without BigInt values or circular references, or JSON text`,
      'PROFILE_INVALID',
      { code: 'PROFILE_INVALID', reason },
    );
    rejection.cause = error;
    throw rejection;
  }
  if (json === undefined) {
    throw badRequest('the carrier profile is missing; pass an object or JSON text', 'PROFILE_INVALID', {
      code: 'PROFILE_INVALID',
    });
  }
  return json;
}

function invalidRequest(message, details = {}) {
  return badRequest(message, 'REQUEST_INVALID', { code: 'REQUEST_INVALID', ...details });
}

// Returns the ImportTrackingEventsRequest as JSON text; null or undefined is an empty request.
function requestToJson(request) {
  if (request === undefined || request === null) return '{}';
  if (!isObject(request)) {
    throw invalidRequest(
      `the ImportTrackingEvents request must be an object such as { transaction_id, metadata }, not ${describe(request)}`,
    );
  }

  const { metadata } = request;
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
    throw invalidRequest(
      `request.metadata must be an object of named values, or null, not ${describe(metadata)}`,
      { field: 'metadata' },
    );
  }

  const { json, reason, error } = toJson(request);
  if (reason !== undefined) {
    const rejection = invalidRequest(
      `the ImportTrackingEvents request cannot be converted to JSON (${reason}); pass only JSON values, without BigInt values or circular references`,
      { reason },
    );
    rejection.cause = error;
    throw rejection;
  }
  // An object with a toJSON() method (a Date, for one) can turn into something else.
  if (json === undefined || !json.startsWith('{')) {
    throw invalidRequest(
      `the ImportTrackingEvents request must convert to a JSON object, but ${describe(request)} converts to ${String(json)}`,
    );
  }
  return json;
}

// `option` is the name of the bad option, or undefined when the options object itself is bad.
function invalidOption(option, message) {
  const details = option === undefined ? { code: 'OPTION_INVALID' } : { code: 'OPTION_INVALID', option };
  return badRequest(message, 'OPTION_INVALID', details);
}

// Returns the source for the native binding: a path or an http(s) URL as a string, or null
// to use the profile's source.
function sourceOption(source) {
  if (source === undefined || source === null) return null;
  if (typeof source === 'string') {
    if (source === '') {
      throw invalidOption(
        'source',
        "options.source is an empty string; pass a file path or an http(s) URL, or leave it out to use the profile's source",
      );
    }
    return source;
  }

  if (source instanceof URL || Object.prototype.toString.call(source) === '[object URL]') {
    const { protocol, href } = source;
    if (protocol === 'http:' || protocol === 'https:') return href;
    if (protocol === 'file:') {
      try {
        return fileURLToPath(href);
      } catch (error) {
        throw invalidOption('source', `options.source ${href} is not a local file URL (${error.message}); pass a file path or a file:/// URL`);
      }
    }
    throw invalidOption(
      'source',
      `options.source ${href} uses ${protocol}, which is not supported; pass a file path or an http:, https: or file: URL`,
    );
  }

  throw invalidOption(
    'source',
    `options.source must be a file path or an http(s) URL, as a string or a URL object, not ${describe(source)}`,
  );
}

// A signal from another AbortController implementation works as long as it has these.
function isAbortSignal(signal) {
  return (
    typeof signal === 'object' &&
    signal !== null &&
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function'
  );
}

// Checks the ImportTrackingEvents options and returns { signal, source, batchSize,
// onSummary } with null for each one not given; null or undefined means no options.
function importOptions(options) {
  if (options === undefined || options === null) {
    return { signal: null, source: null, batchSize: null, onSummary: null };
  }
  if (!isObject(options)) {
    throw invalidOption(
      undefined,
      `ImportTrackingEvents options must be an object such as { signal, source, batchSize, onSummary }, or null, not ${describe(options)}`,
    );
  }

  const { signal, source, batchSize, onSummary } = options;
  if (signal !== undefined && signal !== null && !isAbortSignal(signal)) {
    throw invalidOption(
      'signal',
      `options.signal must be an AbortSignal (an object with aborted, addEventListener and removeEventListener), not ${describe(signal)}`,
    );
  }
  if (batchSize !== undefined && batchSize !== null) {
    if (!(Number.isInteger(batchSize) && batchSize > 0 && batchSize <= MAX_BATCH_SIZE)) {
      throw invalidOption('batchSize', `batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE}, not ${describe(batchSize)}`);
    }
  }
  if (onSummary !== undefined && onSummary !== null && typeof onSummary !== 'function') {
    throw invalidOption(
      'onSummary',
      `options.onSummary must be a function, which is called with the import summary, not ${describe(onSummary)}`,
    );
  }

  return {
    signal: signal ?? null,
    source: sourceOption(source),
    batchSize: batchSize ?? null,
    onSummary: onSummary ?? null,
  };
}

module.exports = { profileToJson, requestToJson, importOptions };
