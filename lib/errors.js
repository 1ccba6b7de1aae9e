'use strict';

// Errors in the shape the Connect host recognises: an Error with isIntentional,
// statusCode, message and details. The status codes are 400, 401, 429 with
// retryAfterSeconds, 520, and 500 with isIntentional false for INTERNAL and CLOSED.

class ConnectTrackingError extends Error {
  constructor(statusCode, message, { code, details, retryAfterSeconds, isIntentional = true } = {}) {
    super(message);
    this.name = 'ConnectTrackingError';
    this.isIntentional = isIntentional;
    this.statusCode = statusCode;
    this.code = code;
    if (details !== undefined) this.details = details;
    if (retryAfterSeconds !== undefined && retryAfterSeconds !== null) {
      this.retryAfterSeconds = retryAfterSeconds;
    }
  }
}

// Converts the native error record of a failed import.
function fromNative(native) {
  let details;
  try {
    details = JSON.parse(native.details);
  } catch {
    details = { code: native.code };
  }
  return new ConnectTrackingError(native.statusCode, native.message, {
    code: native.code,
    details,
    retryAfterSeconds: native.retryAfterSeconds,
    isIntentional: native.isIntentional,
  });
}

function badRequest(message, code, details) {
  return new ConnectTrackingError(400, message, { code, details });
}

// Returns the 500 INTERNAL error for a bug in connect-tracking. `cause` is the error caught.
function internalError(message, cause) {
  const error = new ConnectTrackingError(500, message, {
    code: 'INTERNAL',
    details: { code: 'INTERNAL' },
    isIntentional: false,
  });
  error.cause = cause;
  return error;
}

module.exports = { ConnectTrackingError, fromNative, badRequest, internalError };
