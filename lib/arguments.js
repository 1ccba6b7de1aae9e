'use strict';

// Checks the arguments of createCarrier and ImportTrackingEvents and converts them for the
// native binding. Every rejection is a 400 ConnectTrackingError that names the argument,
// shows the value and states what to pass, so a Connect host reports it like any bad request.

const { fileURLToPath } = require('node:url');
const { inspect } = require('node:util');

const { badRequest } = require('./errors.js');
const { stripByteOrderMark } = require('./files.js');

const MAX_BATCH_SIZE = 1_000_000;

// Formats a value for an error message, as in `'hello' (string)` or `[ 1 ] (array)`.
function describe(value) {
  if (value === null) return 'null';
  const kind = Array.isArray(value) ? 'array' : typeof value;
  const formatted = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 100 });
  return `${formatted} (${kind})`;
}

// Quotes a string for a message, with a lone surrogate shown as an escape such as \ud800.
function quote(text) {
  return inspect(text, { maxStringLength: 100 });
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Objects and arrays may nest at most this many levels, the outermost one included.
// serde_json, which reads the JSON text in Rust, stops at 128 levels.
const MAX_NESTING = 100;

// A key is plain, and shown after a dot, when it is not empty and each character is
// printable ASCII other than space, `.`, brackets, quotes and backslash, or a non-ASCII
// letter or digit. Any other key is shown as ["key"], with every character that is neither
// printable ASCII nor a letter or digit written as \uXXXX, so that invisible characters
// show. The Hangul fillers count as invisible although Unicode calls them letters, because
// fonts draw them blank. key_path in src/profile/read.rs applies the same rule.
const PLAIN_ASCII = /^[!#-&(-\-/-Z^-~]$/;
const LETTER_OR_DIGIT = /^(?![\u115f\u1160\u3164\uffa0])[\p{Alphabetic}\p{N}]$/u;

function isPlainCharacter(character) {
  if (character.charCodeAt(0) < 0x80) return PLAIN_ASCII.test(character);
  return LETTER_OR_DIGIT.test(character);
}

function quoteKey(key) {
  let quoted = '';
  for (const character of key) {
    const code = character.codePointAt(0);
    if (character === '"' || character === '\\') quoted += `\\${character}`;
    else if (code >= 0x20 && code <= 0x7e) quoted += character;
    else if (code >= 0x80 && LETTER_OR_DIGIT.test(character)) quoted += character;
    else {
      for (let index = 0; index < character.length; index++) {
        quoted += `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`;
      }
    }
  }
  return `["${quoted}"]`;
}

// Returns the JSON path of a child value: `parent.key`, `parent[3]` or `parent["a key"]`.
// The root's path is `parent`, which is '' for the profile and 'request' for the request.
function childPath(parent, key, inArray) {
  if (inArray) return `${parent}[${key}]`;
  const plain = key !== '' && [...key].every(isPlainCharacter);
  if (!plain) return `${parent}${quoteKey(key)}`;
  return parent === '' ? key : `${parent}.${key}`;
}

// A value that JSON.stringify would change or that Rust cannot read, found by serialize().
class JsonProblem {
  constructor(kind, path, value) {
    this.kind = kind; // 'surrogate', 'key-surrogate', 'number' or 'nesting'
    // For 'key-surrogate', the path of the object that has the key.
    this.path = path;
    this.value = value;
  }
}

// Serializes `value` as JSON.stringify does, with toJSON() applied, and returns { json }.
// Returns { problem } (a JsonProblem) for a string or key with a lone UTF-16 surrogate,
// NaN or ±Infinity (which JSON.stringify turns into null), or objects and arrays nested
// more than MAX_NESTING levels. Returns { reason, error } when JSON.stringify throws, as
// for BigInt values and circular references.
function serialize(value, rootPath) {
  // The path and nesting level of every object and array met so far. JSON.stringify calls
  // the replacer with the parent as `this`, and the root's parent is a wrapper not in this map.
  const places = new Map();

  function check(key, current) {
    const parent = places.get(this);
    let path = rootPath;
    let depth = 1;
    // The path of the level-3 ancestor (such as request.metadata.NAME), which names a
    // nesting problem without a path hundreds of keys long.
    let top = rootPath;
    if (parent !== undefined) {
      const inArray = Array.isArray(this);
      path = childPath(parent.path, key, inArray);
      depth = parent.depth + 1;
      top = depth <= 3 ? path : parent.top;
      if (!inArray && !key.isWellFormed()) throw new JsonProblem('key-surrogate', parent.path, key);
    }

    const primitive = current instanceof Number || current instanceof String ? current.valueOf() : current;
    if (typeof primitive === 'string' && !primitive.isWellFormed()) {
      throw new JsonProblem('surrogate', path, primitive);
    }
    if (typeof primitive === 'number' && !Number.isFinite(primitive)) {
      throw new JsonProblem('number', path, primitive);
    }
    if (typeof primitive === 'object' && primitive !== null) {
      if (depth > MAX_NESTING) throw new JsonProblem('nesting', top, undefined);
      places.set(primitive, { path, depth, top });
    }
    return current;
  }

  try {
    return { json: JSON.stringify(value, check) };
  } catch (error) {
    if (error instanceof JsonProblem) return { problem: error };
    // A circular structure's message continues with the path on further lines.
    return { reason: String(error?.message ?? error).split('\n')[0], error };
  }
}

// Returns the message of a problem in the profile, which follows its path and a colon.
function profileProblemMessage(problem) {
  switch (problem.kind) {
    case 'surrogate':
      return `${quote(problem.value)} contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or write the whole character`;
    case 'key-surrogate':
      return `the key ${quote(problem.value)} contains a lone UTF-16 surrogate, which is not valid Unicode text; rename the key`;
    case 'number':
      return `${problem.value} is not a number JSON can hold; write a number`;
    default:
      return `objects and arrays are nested more than ${MAX_NESTING} levels deep, counted from the profile's root; no profile option needs more than a few levels`;
  }
}

// Returns the 400 REQUEST_INVALID error for a problem in the request. details.field names
// the request's property (such as metadata) and details.path the value.
function requestProblem(problem) {
  const { path } = problem;
  let message;
  switch (problem.kind) {
    case 'surrogate':
      message = `${path} ${quote(problem.value)} contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or pass the whole character`;
      break;
    case 'key-surrogate':
      message = `${path} has the key ${quote(problem.value)}, which contains a lone UTF-16 surrogate and so is not valid Unicode text; rename the key`;
      break;
    case 'number':
      message = `${path} is ${problem.value}, which is not a number JSON can hold; pass a finite number or a string`;
      break;
    default:
      message = `${path} is nested more than ${MAX_NESTING} levels deep, counted from the request; flatten the value or leave it out of the request`;
  }
  const field = /^request\.([^.[]+)/.exec(path)?.[1];
  return invalidRequest(message, field === undefined ? { path } : { field, path });
}

// Builds the 400 PROFILE_INVALID error from problems { path, message }. `file` names the
// profile file the problems were found in, if the profile came from one.
function profileInvalid(problems, file) {
  const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
  const heading = file === undefined ? 'invalid carrier profile' : `invalid carrier profile ${file}`;
  const details = { code: 'PROFILE_INVALID' };
  if (file !== undefined) details.profile_file = file;
  details.problems = problems.map((problem) => ({ path: problem.path, message: problem.message }));
  return badRequest(`${heading}:\n${lines.join('\n')}`, 'PROFILE_INVALID', details);
}

function profileProblem(problem, file) {
  const path = problem.path === '' ? '(root)' : problem.path;
  return profileInvalid([{ path, message: profileProblemMessage(problem) }], file);
}

// Returns the profile as JSON text for checkProfile. A string is taken as JSON text, without
// a leading byte order mark. `file` names the file that the text was read from, if any.
function profileToJson(profile, file) {
  if (typeof profile === 'string') {
    const text = stripByteOrderMark(profile);
    // The Rust parser reports syntax errors and repeated keys with their line and column,
    // so only text that parses here is checked for values Rust cannot read.
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      return text;
    }
    const { problem } = serialize(parsed, '');
    if (problem !== undefined) throw profileProblem(problem, file);
    return text;
  }

  const { json, problem, reason, error } = serialize(profile, '');
  if (problem !== undefined) throw profileProblem(problem);
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
    throw profileInvalid([{ path: '(root)', message: noJsonMessage(profile) }]);
  }
  return json;
}

// Returns the problem message for a profile that JSON.stringify turns into no JSON text:
// undefined, a function, a symbol, or an object whose toJSON() returns one of these.
function noJsonMessage(profile) {
  const start = 'the profile must be a JSON object or JSON text';
  if (profile === undefined) return `${start}, not undefined`;
  if (typeof profile === 'function') return `${start}, not a function`;
  if (typeof profile === 'symbol') return `${start}, not a symbol`;
  return `${start}, but its toJSON() method returns undefined, a function or a symbol`;
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

  const { json, problem, reason, error } = serialize(request, 'request');
  if (problem !== undefined) throw requestProblem(problem);
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

// A URL scheme followed by `//`, as in HTTPS://host or file:///path. Text without `//`
// after the colon, such as C:\\scans.csv or scans:2024.csv, is read as a path, except
// text that starts with `file:` (see fileSourceToPath).
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

// Converts a file: URL to a path, or rejects it as OPTION_INVALID naming `text`.
function fileUrlToPath(text) {
  try {
    return fileURLToPath(text);
  } catch (error) {
    throw invalidOption('source', `options.source ${text} is not a local file URL (${error.message}); pass a file path or a file:/// URL`);
  }
}

// A Windows drive letter and a separator, as in the `C:/` of file:C:/data/scans.csv.
const DRIVE_LETTER = /^[A-Za-z]:[\\/]/;

// Classifies the path of a `file:` URL without `//` after the colon on `platform`, a
// process.platform value. Returns 'absolute' for file:/data/scans.csv, and on win32 also
// for file:C:/data/scans.csv. Returns 'none' when no path follows, as in `file:` or
// file:?x, and 'relative' for any other text.
function classifyShortFileUrl(text, platform) {
  const rest = text.slice('file:'.length);
  if (rest === '' || rest[0] === '?' || rest[0] === '#') return 'none';
  if (rest[0] === '/') return 'absolute';
  if (platform === 'win32' && DRIVE_LETTER.test(rest)) return 'absolute';
  return 'relative';
}

// Converts a `file:` source to a path. Besides file:///data/scans.csv, the short forms
// file:/data/scans.csv and, on Windows, file:C:/data/scans.csv are accepted. A relative
// path such as `file:scans.csv` is rejected, because fileURLToPath would resolve it from
// the root directory to /scans.csv.
function fileSourceToPath(text) {
  const kind = classifyShortFileUrl(text, process.platform);
  if (kind === 'none') {
    throw invalidOption(
      'source',
      `options.source ${text} is a file: URL with no path; write file:///absolute/path or a plain path`,
    );
  }
  if (kind === 'relative') {
    throw invalidOption(
      'source',
      `options.source ${text} is a file: URL with a relative path, which file: URLs do not allow; write file:///absolute/path or a plain path`,
    );
  }
  return fileUrlToPath(text);
}

// Returns a string source for the native binding, which reads text that starts with
// http:// or https:// (lower case) as a URL and anything else as a path. URL schemes are
// case-insensitive, so HTTP://host is downloaded as well.
function sourceString(source) {
  if (!source.isWellFormed()) {
    throw invalidOption(
      'source',
      `options.source ${describe(source)} contains a lone UTF-16 surrogate, which is not valid Unicode text; pass the path or URL as it is written`,
    );
  }

  const scheme = URL_SCHEME.exec(source)?.[1];
  if (scheme === undefined) {
    return /^file:/i.test(source) ? fileSourceToPath(source) : source;
  }
  const lowerScheme = scheme.toLowerCase();
  if (lowerScheme === 'http' || lowerScheme === 'https') return lowerScheme + source.slice(scheme.length);
  if (lowerScheme === 'file') return fileUrlToPath(source);
  throw invalidOption(
    'source',
    `options.source ${source} uses ${lowerScheme}:, which is not supported; pass a file path or an http:, https: or file: URL`,
  );
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
    return sourceString(source);
  }

  if (source instanceof URL || Object.prototype.toString.call(source) === '[object URL]') {
    const { protocol, href } = source;
    if (protocol === 'http:' || protocol === 'https:') return href;
    if (protocol === 'file:') {
      return fileUrlToPath(href);
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

const OPTION_NAMES = ['signal', 'source', 'batchSize', 'onSummary'];

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

  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw invalidOption(
        key,
        `options.${key} is not an ImportTrackingEvents option; the options are ${OPTION_NAMES.join(', ')}. Check the spelling`,
      );
    }
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

module.exports = { profileToJson, profileInvalid, requestToJson, importOptions, classifyShortFileUrl };
