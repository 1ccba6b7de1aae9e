'use strict';

// connect-tracking: Track and ImportTrackingEvents for ShipEngine Connect carrier apps.
// This file wraps the generated N-API binding (binding.js) in the Connect calling
// convention; the parsing and mapping happen in Rust.

const fs = require('node:fs');
const path = require('node:path');

const { NativeProfile, checkProfile } = require('./binding.js');
const { decodeBatch } = require('./lib/decode.js');
const { ConnectTrackingError, fromNative, badRequest } = require('./lib/errors.js');
const { profileToJson, requestToJson, importOptions } = require('./lib/arguments.js');

const PROFILE_FILE = 'connect-tracking.json';

// Validates a profile (an object or JSON text) and returns { Track, ImportTrackingEvents }.
function createCarrier(profile) {
  const json = profileToJson(profile);
  const problems = checkProfile(json);
  if (problems.length > 0) {
    const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
    throw badRequest(`invalid carrier profile:\n${lines.join('\n')}`, 'PROFILE_INVALID', {
      code: 'PROFILE_INVALID',
      problems: problems.map((problem) => ({ path: problem.path, message: problem.message })),
    });
  }
  const native = new NativeProfile(json);

  return {
    ImportTrackingEvents(request, options) {
      return importEvents(native, request, options);
    },
    Track(request) {
      return track(request);
    },
  };
}

// Yields ImportedTrackingEvent objects; see index.d.ts for the options. The first next()
// checks the request and the options before the import starts.
//
// NOTE: return() and throw() called while a next() is pending wait for that next() to
// settle, because an async generator queues these calls. With a stalled source that is
// when data arrives or the read times out (source.read_timeout_seconds, 60 s by default).
// The AbortSignal stops such an import at once: its listener closes the native import,
// which settles the pending next().
async function* importEvents(native, request, options) {
  const { signal, source, batchSize, onSummary } = importOptions(options);
  const requestJson = requestToJson(request);
  throwIfAborted(signal);

  const job = native.startImport(requestJson, source, batchSize);
  const onAbort = () => job.close();
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    for (;;) {
      const batch = await job.next();
      throwIfAborted(signal);
      if (batch === null) {
        // The producer stopped without an end record, which only close() causes.
        throw new ConnectTrackingError(500, 'the import was closed before it finished', {
          code: 'CLOSED',
          isIntentional: false,
        });
      }

      const items = decodeBatch(batch.text, batch.slots);
      for (const item of items) {
        yield item;
        throwIfAborted(signal);
      }

      const end = batch.end;
      if (end) {
        if (onSummary) onSummary({ ...end.summary });
        if (end.error) throw fromNative(end.error);
        return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    job.close();
  }
}

function throwIfAborted(signal) {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('The import was aborted', 'AbortError');
  }
}

async function track(request) {
  void request;
  throw badRequest(
    'Track is not implemented yet in connect-tracking; use ImportTrackingEvents',
    'NOT_IMPLEMENTED',
    { code: 'NOT_IMPLEMENTED' },
  );
}

// Finds connect-tracking.json: CONNECT_TRACKING_PROFILE if set, else the nearest one in
// the current working directory or its parents.
function findProfileFile(start = process.cwd()) {
  if (process.env.CONNECT_TRACKING_PROFILE) {
    return path.resolve(process.env.CONNECT_TRACKING_PROFILE);
  }
  let directory = path.resolve(start);
  for (;;) {
    const candidate = path.join(directory, PROFILE_FILE);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) return null;
    directory = parent;
  }
}

let defaultCarrier = null;

function loadDefaultCarrier() {
  if (defaultCarrier) return defaultCarrier;
  const file = findProfileFile();
  if (!file) {
    throw badRequest(
      `${PROFILE_FILE} was not found in ${process.cwd()} or its parent directories; put the carrier profile at the app's root or set CONNECT_TRACKING_PROFILE to its path`,
      'PROFILE_NOT_FOUND',
      { code: 'PROFILE_NOT_FOUND' },
    );
  }
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw badRequest(`cannot read ${file}: ${error.message}`, 'PROFILE_NOT_FOUND', { code: 'PROFILE_NOT_FOUND', file });
  }
  defaultCarrier = createCarrier(text);
  return defaultCarrier;
}

// The Connect functions with the profile from connect-tracking.json.
async function* ImportTrackingEvents(request, options) {
  yield* loadDefaultCarrier().ImportTrackingEvents(request, options);
}

async function Track(request) {
  return loadDefaultCarrier().Track(request);
}

module.exports = {
  createCarrier,
  ImportTrackingEvents,
  Track,
  ConnectTrackingError,
  findProfileFile,
};
