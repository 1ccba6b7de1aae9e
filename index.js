'use strict';

// connect-tracking: Track and ImportTrackingEvents for ShipEngine Connect carrier apps.
// This file wraps the generated N-API binding (binding.js) in the Connect calling
// convention; the parsing and mapping happen in Rust.

const fs = require('node:fs');
const path = require('node:path');

const { NativeProfile, checkProfile } = require('./binding.js');
const { decodeBatch } = require('./lib/decode.js');
const { ConnectTrackingError, fromNative, badRequest, internalError } = require('./lib/errors.js');
const { profileToJson, profileInvalid, requestToJson, importOptions } = require('./lib/arguments.js');
const { readTextFile, describeReadError } = require('./lib/files.js');

const PROFILE_FILE = 'connect-tracking.json';

// Validates a profile (an object or JSON text) and returns { Track, ImportTrackingEvents }.
function createCarrier(profile) {
  return buildCarrier(profile);
}

// `file` is the profile file that the JSON text `profile` was read from, for the message
// and details.profile_file of a PROFILE_INVALID error.
function buildCarrier(profile, file) {
  const json = profileToJson(profile, file);
  const native = loadProfile(json, file);

  return {
    ImportTrackingEvents(request, options) {
      return importEvents(native, request, options);
    },
    Track(request) {
      return track(request);
    },
  };
}

// Parses and validates the profile in Rust. The constructor's error has only a message,
// so for an invalid profile checkProfile runs the same checks again to return the
// problems with their paths. A valid profile is parsed only once.
function loadProfile(json, file) {
  try {
    return new NativeProfile(json);
  } catch (error) {
    const problems = checkProfile(json);
    if (problems.length > 0) throw profileInvalid(problems, file);
    const message = String(error?.message ?? error);
    throw internalError(`connect-tracking rejected a profile that its own check found valid (${message}); please report this with the profile`, error);
  }
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

  const job = startImport(native, requestJson, source, batchSize);
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
        const importError = end.error ? fromNative(end.error) : null;
        if (onSummary) await callOnSummary(onSummary, end.summary, importError);
        if (importError) throw importError;
        return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    job.close();
  }
}

// Starts the native import. requestToJson rejects lone surrogates and nesting deeper than
// 100 levels (serde_json stops at 128), so Rust can parse every JSON text it returns. An
// error here is a bug, reported as 500 INTERNAL and never as a raw N-API error.
function startImport(native, requestJson, source, batchSize) {
  try {
    return native.startImport(requestJson, source, batchSize);
  } catch (error) {
    const message = String(error?.message ?? error);
    throw internalError(`connect-tracking could not start the import (${message}); please report this`, error);
  }
}

// Calls onSummary and awaits the promise it may return, so that a rejection is handled
// like a throw instead of becoming an unhandled rejection. An exception from onSummary is
// rethrown when the import succeeded. When the import failed, the import's error is still
// the one thrown, and its details.on_summary_error contains the exception's message.
async function callOnSummary(onSummary, summary, importError) {
  try {
    await onSummary({ ...summary });
  } catch (error) {
    if (!importError) throw error;
    importError.details = { ...importError.details, on_summary_error: String(error?.message ?? error) };
  }
}

function throwIfAborted(signal) {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('The import was aborted', 'AbortError');
  }
}

// Rejects every request with 400 NOT_IMPLEMENTED. The unused parameter keeps the
// signature of Connect's Track.
async function track(_request) {
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
      `no carrier profile was found: ${PROFILE_FILE} is not in ${process.cwd()} or any of its parent directories, and CONNECT_TRACKING_PROFILE is not set; create ${PROFILE_FILE} at the app's root or set CONNECT_TRACKING_PROFILE to the profile's path`,
      'PROFILE_NOT_FOUND',
      { code: 'PROFILE_NOT_FOUND', directory: process.cwd() },
    );
  }
  let text;
  try {
    text = readTextFile(file);
  } catch (error) {
    throw profileNotReadable(file, error);
  }
  defaultCarrier = buildCarrier(text, file);
  return defaultCarrier;
}

// Returns the PROFILE_NOT_FOUND error for a profile file that cannot be read.
function profileNotReadable(file, error) {
  const reason = describeReadError(error);
  const message = process.env.CONNECT_TRACKING_PROFILE
    ? `the carrier profile ${file}, named by CONNECT_TRACKING_PROFILE, ${reason}; set CONNECT_TRACKING_PROFILE to the profile's path, or unset it to use ${PROFILE_FILE} at the app's root`
    : `the carrier profile ${file} ${reason}; make it a readable JSON file, or set CONNECT_TRACKING_PROFILE to the profile's path`;
  const rejection = badRequest(message, 'PROFILE_NOT_FOUND', { code: 'PROFILE_NOT_FOUND', profile_file: file });
  rejection.cause = error;
  return rejection;
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
