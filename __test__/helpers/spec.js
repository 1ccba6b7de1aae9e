'use strict';

// Validates outputs against the Connect carrier API specification (OpenAPI 3.0.1,
// @shipengine/connect-carrier-api 4.8.7), copied to __test__/fixtures/spec/.

const assert = require('node:assert/strict');
const path = require('node:path');

const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const spec = require(path.join(__dirname, '..', 'fixtures', 'spec', 'carrier-api-4.8.7.spec.json'));

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// OpenAPI's `nullable` is understood by Ajv; refs point into components.schemas.
ajv.addSchema({ components: spec.components }, 'spec');

const validateImported = ajv.getSchema('spec#/components/schemas/ImportedTrackingEvent');
const validateTrackingResponse = ajv.getSchema('spec#/components/schemas/TrackingResponse');

// Fails the test unless `item` is a valid ImportedTrackingEvent.
function assertValidItem(item) {
  const valid = validateImported(item);
  assert.ok(valid, `invalid ImportedTrackingEvent: ${ajv.errorsText(validateImported.errors)}\n${JSON.stringify(item)}`);
}

function assertValidTrackingResponse(response) {
  const valid = validateTrackingResponse(response);
  assert.ok(valid, `invalid TrackingResponse: ${ajv.errorsText(validateTrackingResponse.errors)}`);
}

module.exports = { assertValidItem, assertValidTrackingResponse };
