'use strict';

// Arguments of createCarrier and ImportTrackingEvents. A value of the wrong type must be
// rejected by the first next(), before the import opens its source, with the 400 error
// shape the Connect host recognises. The imports run the bundled DPD profile on the real
// DPD SCANINFO file (26 records, 21 parcels).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');
const { pathToFileURL } = require('node:url');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');
const { startServer, serveBuffer, stallAfter, within, waitUntil } = require('./helpers/http.js');

const DPD_PROFILE = require('../examples/profiles/dpd-scaninfo.json');
const DPD_FILE = path.join(__dirname, 'fixtures', 'real', 'dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv');
const DPD_PARCELS = 21;
const DPD_RECORDS = 26;
// The parcel of the file's first data row; items keep the order of first appearance.
const FIRST_DPD_PARCEL = '01865046755363';

// The DPD profile with its source pointing at the real file, for imports without options.
const DPD_LOCAL_PROFILE = { ...DPD_PROFILE, source: { path: DPD_FILE } };

const REQUEST = { transaction_id: '0b6f4e1c-8a52-4d0a-9a43-1f2f6c3b7d55', metadata: {} };

// Safety bound for a pending call to settle. A passing run takes milliseconds.
const SETTLE_LIMIT_MS = 5000;

// Runs the import to its end, checks every item against the specification and returns them.
async function importAll(carrier, request, options) {
  const items = [];
  for await (const item of carrier.ImportTrackingEvents(request, options)) {
    assertValidItem(item);
    items.push(item);
  }
  return items;
}

// Returns a predicate for assert.rejects/throws that checks the whole Connect error shape.
function badRequest(code, message, details) {
  return (error) => {
    assert.equal(error.name, 'ConnectTrackingError');
    assert.equal(error.statusCode, 400);
    assert.equal(error.isIntentional, true);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    assert.deepEqual(error.details, details);
    return true;
  };
}

function optionInvalid(option, message) {
  return badRequest('OPTION_INVALID', message, { code: 'OPTION_INVALID', option });
}

function requestInvalid(message, details = {}) {
  return badRequest('REQUEST_INVALID', message, { code: 'REQUEST_INVALID', ...details });
}

test.describe('options.source', () => {
  test('file: URL object is read as a path', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    let summary = null;
    const items = await importAll(carrier, REQUEST, {
      source: pathToFileURL(DPD_FILE),
      onSummary: (value) => {
        summary = value;
      },
    });

    assert.equal(items.length, DPD_PARCELS);
    assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
    assert.equal(summary.records, DPD_RECORDS);
    assert.equal(summary.bytes, fs.statSync(DPD_FILE).size);
  });

  test('http: URL object is downloaded', async () => {
    const server = await startServer(serveBuffer(fs.readFileSync(DPD_FILE)));
    try {
      const carrier = createCarrier(DPD_PROFILE);
      const items = await importAll(carrier, REQUEST, { source: new URL('/SCANINFO.csv?day=2022-04-29', server.url) });

      assert.equal(items.length, DPD_PARCELS);
      assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
      assert.deepEqual(
        server.requests.map((request) => request.url),
        ['/SCANINFO.csv?day=2022-04-29'],
      );
    } finally {
      await server.close();
    }
  });

  const wrongTypes = [
    { name: 'number', source: 42, described: '42 (number)' },
    { name: 'object', source: { path: DPD_FILE }, described: `{ path: '${DPD_FILE}' } (object)` },
    { name: 'array', source: [DPD_FILE], described: `[ '${DPD_FILE}' ] (array)` },
    { name: 'boolean', source: true, described: 'true (boolean)' },
  ];
  for (const { name, source, described } of wrongTypes) {
    test(`${name} is 400 OPTION_INVALID`, async () => {
      const carrier = createCarrier(DPD_PROFILE);
      const generator = carrier.ImportTrackingEvents(REQUEST, { source });

      await assert.rejects(
        generator.next(),
        optionInvalid(
          'source',
          `options.source must be a file path or an http(s) URL, as a string or a URL object, not ${described}`,
        ),
      );
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
    });
  }

  test('ftp: URL object is 400 OPTION_INVALID', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    await assert.rejects(
      importAll(carrier, REQUEST, { source: new URL('ftp://127.0.0.1/SCANINFO.csv') }),
      optionInvalid(
        'source',
        'options.source ftp://127.0.0.1/SCANINFO.csv uses ftp:, which is not supported; pass a file path or an http:, https: or file: URL',
      ),
    );
  });

  test('empty string is 400 OPTION_INVALID', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    await assert.rejects(
      importAll(carrier, REQUEST, { source: '' }),
      optionInvalid(
        'source',
        "options.source is an empty string; pass a file path or an http(s) URL, or leave it out to use the profile's source",
      ),
    );
  });
});

test.describe('options object', () => {
  test('null options mean no options', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const items = await importAll(carrier, REQUEST, null);

    assert.equal(items.length, DPD_PARCELS);
    assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
  });

  const wrongTypes = [
    { options: 'fast', described: "'fast' (string)" },
    { options: 256, described: '256 (number)' },
    { options: [{ batchSize: 1 }], described: '[ { batchSize: 1 } ] (array)' },
  ];
  for (const { options, described } of wrongTypes) {
    test(`options ${described} is 400 OPTION_INVALID`, async () => {
      const carrier = createCarrier(DPD_LOCAL_PROFILE);
      await assert.rejects(
        importAll(carrier, REQUEST, options),
        badRequest(
          'OPTION_INVALID',
          `ImportTrackingEvents options must be an object such as { signal, source, batchSize, onSummary }, or null, not ${described}`,
          { code: 'OPTION_INVALID' },
        ),
      );
    });
  }

  test('string batchSize shows its type', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, REQUEST, { batchSize: '10' }),
      optionInvalid('batchSize', "batchSize must be a whole number from 1 to 1000000, not '10' (string)"),
    );
  });

  test('null batchSize uses the default', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const items = await importAll(carrier, REQUEST, { batchSize: null });

    assert.equal(items.length, DPD_PARCELS);
  });
});

test.describe('signal and onSummary are checked first', () => {
  // The server would send the whole DPD file; no request may reach it.
  async function assertRejectedBeforeRequest(options, check) {
    const server = await startServer(serveBuffer(fs.readFileSync(DPD_FILE)));
    try {
      const carrier = createCarrier(DPD_PROFILE);
      const generator = carrier.ImportTrackingEvents(REQUEST, { source: `${server.url}/SCANINFO.csv`, ...options });

      await assert.rejects(generator.next(), check);
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  }

  test('onSummary number is rejected before any item', async () => {
    await assertRejectedBeforeRequest(
      { onSummary: 1 },
      optionInvalid('onSummary', 'options.onSummary must be a function, which is called with the import summary, not 1 (number)'),
    );
  });

  test('onSummary object is rejected before any item', async () => {
    await assertRejectedBeforeRequest(
      { onSummary: { records: 0 } },
      optionInvalid(
        'onSummary',
        'options.onSummary must be a function, which is called with the import summary, not { records: 0 } (object)',
      ),
    );
  });

  const wrongSignals = [
    { name: 'empty object', signal: {}, described: '{} (object)' },
    { name: 'object without listeners', signal: { aborted: false }, described: '{ aborted: false } (object)' },
    { name: 'AbortController', signal: new AbortController(), described: 'AbortController { signal: [AbortSignal] } (object)' },
    { name: 'boolean', signal: true, described: 'true (boolean)' },
  ];
  for (const { name, signal, described } of wrongSignals) {
    test(`signal ${name} is rejected before the request`, async () => {
      await assertRejectedBeforeRequest(
        { signal },
        optionInvalid(
          'signal',
          `options.signal must be an AbortSignal (an object with aborted, addEventListener and removeEventListener), not ${described}`,
        ),
      );
    });
  }
});

test.describe('request', () => {
  const wrongTypes = [
    { request: 'hello', described: "'hello' (string)" },
    { request: 7, described: '7 (number)' },
    { request: [REQUEST], described: "[ { transaction_id: '0b6f4e1c-8a52-4d0a-9a43-1f2f6c3b7d55', metadata: {} } ] (array)" },
  ];
  for (const { request, described } of wrongTypes) {
    test(`request ${described} is 400 REQUEST_INVALID`, async () => {
      const carrier = createCarrier(DPD_LOCAL_PROFILE);
      await assert.rejects(
        importAll(carrier, request),
        requestInvalid(`the ImportTrackingEvents request must be an object such as { transaction_id, metadata }, not ${described}`),
      );
    });
  }

  const wrongMetadata = [
    { metadata: ['12345'], described: "[ '12345' ] (array)" },
    { metadata: 'dpd_customer_number=12345', described: "'dpd_customer_number=12345' (string)" },
    { metadata: 12345, described: '12345 (number)' },
  ];
  for (const { metadata, described } of wrongMetadata) {
    test(`metadata ${described} is 400 REQUEST_INVALID`, async () => {
      const carrier = createCarrier(DPD_LOCAL_PROFILE);
      await assert.rejects(
        importAll(carrier, { ...REQUEST, metadata }),
        requestInvalid(`request.metadata must be an object of named values, or null, not ${described}`, { field: 'metadata' }),
      );
    });
  }

  test('BigInt metadata is 400 REQUEST_INVALID', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { dpd_customer_number: 12345n } }),
      requestInvalid(
        'the ImportTrackingEvents request cannot be converted to JSON (Do not know how to serialize a BigInt); pass only JSON values, without BigInt values or circular references',
        { reason: 'Do not know how to serialize a BigInt' },
      ),
    );
  });

  test('circular request is 400 REQUEST_INVALID', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const request = { ...REQUEST, metadata: {} };
    request.metadata.request = request;
    await assert.rejects(
      importAll(carrier, request),
      requestInvalid(
        'the ImportTrackingEvents request cannot be converted to JSON (Converting circular structure to JSON); pass only JSON values, without BigInt values or circular references',
        { reason: 'Converting circular structure to JSON' },
      ),
    );
  });

  test('Date request is 400 REQUEST_INVALID', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const request = new Date('2022-04-29T12:00:00Z');
    await assert.rejects(
      importAll(carrier, request),
      requestInvalid(
        'the ImportTrackingEvents request must convert to a JSON object, but 2022-04-29T12:00:00.000Z (object) converts to "2022-04-29T12:00:00.000Z"',
      ),
    );
  });
});

test.describe('profile that cannot become JSON', () => {
  test('BigInt value is 400 PROFILE_INVALID', () => {
    const profile = { ...DPD_LOCAL_PROFILE, source: { path: DPD_FILE, read_timeout_seconds: 30n } };
    assert.throws(
      () => createCarrier(profile),
      badRequest(
        'PROFILE_INVALID',
        'the carrier profile cannot be converted to JSON (Do not know how to serialize a BigInt); pass an object of JSON values without BigInt values or circular references, or JSON text',
        { code: 'PROFILE_INVALID', reason: 'Do not know how to serialize a BigInt' },
      ),
    );
  });

  test('circular profile is 400 PROFILE_INVALID', () => {
    const profile = { ...DPD_LOCAL_PROFILE, statuses: { ...DPD_LOCAL_PROFILE.statuses } };
    profile.statuses['99'] = profile;
    assert.throws(
      () => createCarrier(profile),
      badRequest(
        'PROFILE_INVALID',
        'the carrier profile cannot be converted to JSON (Converting circular structure to JSON); pass an object of JSON values without BigInt values or circular references, or JSON text',
        { code: 'PROFILE_INVALID', reason: 'Converting circular structure to JSON' },
      ),
    );
  });
});

// Guards the stopping behaviour that index.d.ts documents: a pending next() delays
// return(), and only the AbortSignal settles both at once.
test('return() waits for a pending next()', async () => {
  // The real header row arrives, then nothing more, so the first next() waits.
  const header = fs.readFileSync(DPD_FILE, 'utf8').split('\n')[0];
  const server = await startServer(stallAfter(`${header}\n`));
  try {
    const carrier = createCarrier(DPD_PROFILE);
    const controller = new AbortController();
    const generator = carrier.ImportTrackingEvents(REQUEST, {
      source: `${server.url}/SCANINFO.csv`,
      signal: controller.signal,
    });
    // The handler is attached at once, so the rejection is never unhandled.
    const nextOutcome = generator.next().then(
      (result) => ({ result }),
      (error) => ({ error }),
    );
    await waitUntil(() => server.requests.length === 1, 'the import request reaching the server');

    let returned = false;
    const pendingReturn = generator.return('stopped').then((result) => {
      returned = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(returned, false);

    const reason = new Error('import cancelled by the host');
    controller.abort(reason);
    const outcome = await within(nextOutcome, SETTLE_LIMIT_MS, 'the pending next() settling');
    assert.equal(outcome.error, reason);
    assert.deepEqual(await within(pendingReturn, SETTLE_LIMIT_MS, 'return() settling'), { value: 'stopped', done: true });
  } finally {
    await server.close();
  }
});
