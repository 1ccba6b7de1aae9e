'use strict';

// Arguments of createCarrier and ImportTrackingEvents. A value of the wrong type must be
// rejected by the first next(), before the import opens its source, with the 400 error
// shape the Connect host recognises. The imports run the bundled DPD profile on the real
// DPD SCANINFO file (26 records, 21 parcels).

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
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

  test('misspelled option is rejected before the request', async () => {
    await assertRejectedBeforeRequest(
      { sorce: '/tmp/other.csv' },
      optionInvalid('sorce', 'options.sorce is not an ImportTrackingEvents option; the options are signal, source, batchSize, onSummary. Check the spelling'),
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

  for (const request of [null, undefined]) {
    test(`request ${request} counts as empty`, async () => {
      const carrier = createCarrier(DPD_LOCAL_PROFILE);
      const items = await importAll(carrier, request);

      assert.equal(items.length, DPD_PARCELS);
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

// Returns an object nested `levels` deep: { a: { a: ... { a: 'x' } } }.
function nested(levels) {
  let value = 'x';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

test.describe('request values JSON cannot carry', () => {
  // The request is level 1 and metadata level 2, so the unused key may nest 98 objects.
  test('metadata nested 100 levels is read', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const items = await importAll(carrier, { ...REQUEST, metadata: { unused: nested(98) } });

    assert.equal(items.length, DPD_PARCELS);
  });

  test('metadata nested 101 levels is 400', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { unused: nested(99) } }),
      requestInvalid(
        'request.metadata.unused is nested more than 100 levels deep, counted from the request; flatten the value or leave it out of the request',
        { field: 'metadata', path: 'request.metadata.unused' },
      ),
    );
  });

  test('metadata nested 3000 levels is 400', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { dpd_customer_number: '12345', unused: nested(3000) } }),
      requestInvalid(
        'request.metadata.unused is nested more than 100 levels deep, counted from the request; flatten the value or leave it out of the request',
        { field: 'metadata', path: 'request.metadata.unused' },
      ),
    );
  });

  test('lone surrogate in metadata is 400', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { dpd_customer_number: '123\ud800' } }),
      requestInvalid(
        "request.metadata.dpd_customer_number '123\\ud800' contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or pass the whole character",
        { field: 'metadata', path: 'request.metadata.dpd_customer_number' },
      ),
    );
  });

  test('lone surrogate in a metadata key is 400', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { 'note\udc00': 'x' } }),
      requestInvalid(
        "request.metadata has the key 'note\\udc00', which contains a lone UTF-16 surrogate and so is not valid Unicode text; rename the key",
        { field: 'metadata', path: 'request.metadata' },
      ),
    );
  });

  test('lone surrogate outside metadata is 400', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, connection_name: 'DPD \udbff' }),
      requestInvalid(
        "request.connection_name 'DPD \\udbff' contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or pass the whole character",
        { field: 'connection_name', path: 'request.connection_name' },
      ),
    );
  });

  test('surrogate pair in metadata is read', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const items = await importAll(carrier, { ...REQUEST, metadata: { note: 'parcel \ud83d\udce6' } });

    assert.equal(items.length, DPD_PARCELS);
  });

  test('NaN metadata is 400', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { dpd_customer_number: NaN } }),
      requestInvalid(
        'request.metadata.dpd_customer_number is NaN, which is not a number JSON can hold; pass a finite number or a string',
        { field: 'metadata', path: 'request.metadata.dpd_customer_number' },
      ),
    );
  });

  test('Infinity in a metadata array is 400', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, { ...REQUEST, metadata: { limits: [1, -Infinity] } }),
      requestInvalid(
        'request.metadata.limits[1] is -Infinity, which is not a number JSON can hold; pass a finite number or a string',
        { field: 'metadata', path: 'request.metadata.limits[1]' },
      ),
    );
  });
});

test.describe('profile values JSON cannot carry', () => {
  function profileInvalid(problemPath, problemMessage) {
    return badRequest('PROFILE_INVALID', `invalid carrier profile:\n  ${problemPath}: ${problemMessage}`, {
      code: 'PROFILE_INVALID',
      problems: [{ path: problemPath, message: problemMessage }],
    });
  }

  const numbers = [
    { name: 'NaN', value: NaN },
    { name: 'Infinity', value: Infinity },
  ];
  for (const { name, value } of numbers) {
    test(`${name} names its path`, () => {
      const profile = { ...DPD_LOCAL_PROFILE, grouping: { max_open_shipments: value } };
      assert.throws(
        () => createCarrier(profile),
        profileInvalid('grouping.max_open_shipments', `${name} is not a number JSON can hold; write a number`),
      );
    });
  }

  test('lone surrogate in a value names its path', () => {
    const profile = { ...DPD_LOCAL_PROFILE, carrier_name: 'DPD \ud800' };
    assert.throws(
      () => createCarrier(profile),
      profileInvalid(
        'carrier_name',
        "'DPD \\ud800' contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or write the whole character",
      ),
    );
  });

  test('lone surrogate in JSON text names its path', () => {
    // JSON.stringify writes the lone surrogate as the escape \ud800.
    const text = JSON.stringify({ ...DPD_LOCAL_PROFILE, fields: { ...DPD_PROFILE.fields, city: 'CITY\ud800' } });
    assert.throws(
      () => createCarrier(text),
      profileInvalid(
        'fields.city',
        "'CITY\\ud800' contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or write the whole character",
      ),
    );
  });

  test('lone surrogate in a key names its object', () => {
    const profile = { ...DPD_LOCAL_PROFILE, statuses: { ...DPD_PROFILE.statuses, '\udc0013': 'DE' } };
    assert.throws(
      () => createCarrier(profile),
      profileInvalid('statuses', "the key '\\udc0013' contains a lone UTF-16 surrogate, which is not valid Unicode text; rename the key"),
    );
  });

  test('nesting 3000 levels names its path', () => {
    const profile = { ...DPD_LOCAL_PROFILE, statuses: { ...DPD_PROFILE.statuses, 99: nested(3000) } };
    assert.throws(
      () => createCarrier(profile),
      profileInvalid(
        'statuses.99',
        "objects and arrays are nested more than 100 levels deep, counted from the profile's root; no profile option needs more than a few levels",
      ),
    );
  });
});

test.describe('profile text with a byte order mark', () => {
  test('createCarrier reads it', async () => {
    const text = `\ufeff${JSON.stringify(DPD_LOCAL_PROFILE, null, 2)}\n`;
    const items = await importAll(createCarrier(text), REQUEST);

    assert.equal(items.length, DPD_PARCELS);
    assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
  });
});

test.describe('options.source strings', () => {
  test('upper-case HTTP:// is downloaded', async () => {
    const server = await startServer(serveBuffer(fs.readFileSync(DPD_FILE)));
    try {
      const carrier = createCarrier(DPD_PROFILE);
      const source = `HTTP://127.0.0.1:${server.port}/SCANINFO.csv`;
      const items = await importAll(carrier, REQUEST, { source });

      assert.equal(items.length, DPD_PARCELS);
      assert.deepEqual(
        server.requests.map((request) => request.url),
        ['/SCANINFO.csv'],
      );
    } finally {
      await server.close();
    }
  });

  test('file:// string is read as a path', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    const items = await importAll(carrier, REQUEST, { source: pathToFileURL(DPD_FILE).href });

    assert.equal(items.length, DPD_PARCELS);
    assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
  });

  test('file:/ string is read as a path', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    const items = await importAll(carrier, REQUEST, { source: `file:${DPD_FILE}` });

    assert.equal(items.length, DPD_PARCELS);
    assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
  });

  // fileURLToPath would resolve these from the root directory, as /scans.csv.
  for (const source of ['file:scans.csv', 'FILE:./scans.csv', 'file:../scans.csv']) {
    test(`${source} string is 400 OPTION_INVALID`, async () => {
      const carrier = createCarrier(DPD_LOCAL_PROFILE);
      await assert.rejects(
        importAll(carrier, REQUEST, { source }),
        optionInvalid(
          'source',
          `options.source ${source} is a file: URL with a relative path, which file: URLs do not allow; write file:///absolute/path or a plain path`,
        ),
      );
    });
  }

  test('ftp:// string is 400 OPTION_INVALID', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, REQUEST, { source: 'FTP://127.0.0.1/SCANINFO.csv' }),
      optionInvalid(
        'source',
        'options.source FTP://127.0.0.1/SCANINFO.csv uses ftp:, which is not supported; pass a file path or an http:, https: or file: URL',
      ),
    );
  });

  test('file:// string with a host is 400 OPTION_INVALID', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, REQUEST, { source: 'file://carrier-host/SCANINFO.csv' }),
      optionInvalid(
        'source',
        'options.source file://carrier-host/SCANINFO.csv is not a local file URL (File URL host must be "localhost" or empty on linux); pass a file path or a file:/// URL',
      ),
    );
  });

  test('lone surrogate is 400 OPTION_INVALID', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    await assert.rejects(
      importAll(carrier, REQUEST, { source: `${DPD_FILE}\ud800` }),
      optionInvalid(
        'source',
        `options.source '${DPD_FILE}\\ud800' (string) contains a lone UTF-16 surrogate, which is not valid Unicode text; pass the path or URL as it is written`,
      ),
    );
  });
});

test.describe('onSummary that throws', () => {
  test('import error stays the one thrown', async () => {
    const carrier = createCarrier(DPD_PROFILE);
    const missing = path.join(__dirname, 'fixtures', 'real', 'missing-SCANINFO.csv');
    const options = {
      source: missing,
      onSummary: () => {
        throw new Error('summary store is offline');
      },
    };

    await assert.rejects(importAll(carrier, REQUEST, options), (error) => {
      assert.equal(error.name, 'ConnectTrackingError');
      assert.equal(error.code, 'SOURCE_NOT_FOUND');
      assert.equal(error.statusCode, 400);
      assert.equal(error.details.code, 'SOURCE_NOT_FOUND');
      assert.equal(error.details.source, missing);
      assert.equal(error.details.on_summary_error, 'summary store is offline');
      return true;
    });
  });

  // Guards the documented choice: without an import error, the caller's exception is rethrown.
  test('successful import rethrows it', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const summaryError = new Error('summary store is offline');
    const items = [];
    const run = async () => {
      const options = {
        onSummary: () => {
          throw summaryError;
        },
      };
      for await (const item of carrier.ImportTrackingEvents(REQUEST, options)) items.push(item);
    };

    await assert.rejects(run(), (error) => error === summaryError);
    assert.equal(items.length, DPD_PARCELS);
  });

  test('rejected promise is rethrown', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const summaryError = new Error('summary store is offline');
    const run = async () => {
      const options = {
        onSummary: async () => {
          await new Promise((resolve) => setImmediate(resolve));
          throw summaryError;
        },
      };
      for await (const item of carrier.ImportTrackingEvents(REQUEST, options)) void item;
    };

    await assert.rejects(run(), (error) => error === summaryError);
  });

  test('promise is awaited before the end', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    const stored = [];
    const options = {
      onSummary: async (summary) => {
        await new Promise((resolve) => setImmediate(resolve));
        stored.push(summary.records);
      },
    };
    for await (const item of carrier.ImportTrackingEvents(REQUEST, options)) void item;

    assert.deepEqual(stored, [DPD_RECORDS]);
  });

  test('not called after break', async () => {
    const carrier = createCarrier(DPD_LOCAL_PROFILE);
    let calls = 0;
    for await (const item of carrier.ImportTrackingEvents(REQUEST, { onSummary: () => calls++ })) {
      void item;
      break;
    }

    assert.equal(calls, 0);
  });
});

// The module's own ImportTrackingEvents caches the first profile it loads, so each case
// runs in a child process with its own working directory and environment.
test.describe('profile loaded from a file', () => {
  const ROOT = path.join(__dirname, '..');
  const IMPORT_SCRIPT = `
    const { ImportTrackingEvents } = require(${JSON.stringify(ROOT)});
    (async () => {
      let items = 0;
      try {
        const request = { transaction_id: 't', metadata: {} };
        for await (const item of ImportTrackingEvents(request, { source: process.argv[1] })) items += 1;
        process.stdout.write(JSON.stringify({ items }));
      } catch (error) {
        const { name, statusCode, isIntentional, code, message, details } = error;
        process.stdout.write(JSON.stringify({ items, error: { name, statusCode, isIntentional, code, message, details } }));
      }
    })();
  `;

  // Runs the default ImportTrackingEvents on the DPD file and returns { items, error }.
  function importWithDefaultProfile(cwd, environment = {}) {
    const env = { ...process.env, ...environment };
    if (environment.CONNECT_TRACKING_PROFILE === undefined) delete env.CONNECT_TRACKING_PROFILE;
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', IMPORT_SCRIPT, DPD_FILE], { cwd, env, timeout: 30_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`the child process failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout));
      });
    });
  }

  // Creates app/ and app/sub/ in a fresh temporary directory and returns their paths.
  function appDirectory(t) {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-app-'));
    t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
    const sub = path.join(directory, 'app', 'sub');
    fs.mkdirSync(sub, { recursive: true });
    return { app: path.join(directory, 'app'), sub };
  }

  test('byte order mark is accepted', async (t) => {
    const { app, sub } = appDirectory(t);
    fs.writeFileSync(path.join(app, 'connect-tracking.json'), `\ufeff${JSON.stringify(DPD_PROFILE, null, 2)}\n`);

    const outcome = await importWithDefaultProfile(sub);
    assert.deepEqual(outcome, { items: DPD_PARCELS });
  });

  test('PROFILE_INVALID names the file', async (t) => {
    const { app, sub } = appDirectory(t);
    const file = path.join(app, 'connect-tracking.json');
    fs.writeFileSync(file, JSON.stringify({ ...DPD_PROFILE, carrier_name: 'DPD\ud800' }));

    const { items, error } = await importWithDefaultProfile(sub);
    const problem = {
      path: 'carrier_name',
      message: "'DPD\\ud800' contains a lone UTF-16 surrogate, which is not valid Unicode text; remove it or write the whole character",
    };
    assert.equal(items, 0);
    assert.deepEqual(error, {
      name: 'ConnectTrackingError',
      statusCode: 400,
      isIntentional: true,
      code: 'PROFILE_INVALID',
      message: `invalid carrier profile ${file}:\n  ${problem.path}: ${problem.message}`,
      details: { code: 'PROFILE_INVALID', profile_file: file, problems: [problem] },
    });
  });

  test('PROFILE_INVALID from Rust names the file', async (t) => {
    const { app } = appDirectory(t);
    const file = path.join(app, 'carrier.json');
    const statuses = { ...DPD_PROFILE.statuses, '01': { status: 'XX' } };
    fs.writeFileSync(file, JSON.stringify({ ...DPD_PROFILE, statuses }));

    const { error } = await importWithDefaultProfile(app, { CONNECT_TRACKING_PROFILE: 'carrier.json' });
    assert.equal(error.code, 'PROFILE_INVALID');
    assert.equal(error.details.profile_file, file);
    assert.deepEqual(
      error.details.problems.map((problem) => problem.path),
      ['statuses.01.status'],
    );
    assert.equal(error.message.split('\n')[0], `invalid carrier profile ${file}:`);
  });

  test('missing CONNECT_TRACKING_PROFILE file says what to do', async (t) => {
    const { app } = appDirectory(t);
    const file = path.join(app, 'carrier.json');

    const { error } = await importWithDefaultProfile(app, { CONNECT_TRACKING_PROFILE: 'carrier.json' });
    assert.deepEqual(error, {
      name: 'ConnectTrackingError',
      statusCode: 400,
      isIntentional: true,
      code: 'PROFILE_NOT_FOUND',
      message: `the carrier profile ${file}, named by CONNECT_TRACKING_PROFILE, does not exist; set CONNECT_TRACKING_PROFILE to the profile's path, or unset it to use connect-tracking.json at the app's root`,
      details: { code: 'PROFILE_NOT_FOUND', profile_file: file },
    });
  });

  test('no profile file says where it looked', async (t) => {
    const { sub } = appDirectory(t);
    const cwd = fs.realpathSync(sub);

    const { error } = await importWithDefaultProfile(sub);
    assert.deepEqual(error, {
      name: 'ConnectTrackingError',
      statusCode: 400,
      isIntentional: true,
      code: 'PROFILE_NOT_FOUND',
      message: `no carrier profile was found: connect-tracking.json is not in ${cwd} or any of its parent directories, and CONNECT_TRACKING_PROFILE is not set; create connect-tracking.json at the app's root or set CONNECT_TRACKING_PROFILE to the profile's path`,
      details: { code: 'PROFILE_NOT_FOUND', directory: cwd },
    });
  });

  test('directory named connect-tracking.json is PROFILE_NOT_FOUND', async (t) => {
    const { app, sub } = appDirectory(t);
    const file = path.join(fs.realpathSync(app), 'connect-tracking.json');
    fs.mkdirSync(file);

    const { error } = await importWithDefaultProfile(sub);
    assert.equal(error.code, 'PROFILE_NOT_FOUND');
    assert.equal(
      error.message,
      `the carrier profile ${file} is a directory, not a file; make it a readable JSON file, or set CONNECT_TRACKING_PROFILE to the profile's path`,
    );
    assert.deepEqual(error.details, { code: 'PROFILE_NOT_FOUND', profile_file: file });
  });
});

test.describe('file: strings without //', () => {
  const { classifyShortFileUrl } = require('../lib/arguments.js');

  for (const source of ['file:', 'FILE:', 'file:?date=2024-05-13', 'file:#scans']) {
    test(`${source} string has no path`, async () => {
      const carrier = createCarrier(DPD_LOCAL_PROFILE);
      await assert.rejects(
        importAll(carrier, REQUEST, { source }),
        optionInvalid(
          'source',
          `options.source ${source} is a file: URL with no path; write file:///absolute/path or a plain path`,
        ),
      );
    });
  }

  // The classification takes the platform as an argument, so the Windows rules are
  // checked on every platform.
  const cases = [
    { text: 'file:', linux: 'none', win32: 'none' },
    { text: 'file:?x', linux: 'none', win32: 'none' },
    { text: 'file:/data/scans.csv', linux: 'absolute', win32: 'absolute' },
    { text: 'file:C:/data/scans.csv', linux: 'relative', win32: 'absolute' },
    { text: 'FILE:c:\\data\\scans.csv', linux: 'relative', win32: 'absolute' },
    { text: 'file:C:scans.csv', linux: 'relative', win32: 'relative' },
    { text: 'file:C:', linux: 'relative', win32: 'relative' },
    { text: 'file:1:/data/scans.csv', linux: 'relative', win32: 'relative' },
    { text: 'file:scans.csv', linux: 'relative', win32: 'relative' },
  ];
  for (const platform of ['linux', 'win32']) {
    test(`classification on ${platform}`, () => {
      for (const testCase of cases) {
        assert.equal(classifyShortFileUrl(testCase.text, platform), testCase[platform], testCase.text);
      }
    });
  }

  const windowsOnly = { skip: process.platform !== 'win32' && 'drive letters are paths only on Windows' };
  test('drive letter is read as a path on Windows', windowsOnly, async () => {
    const carrier = createCarrier(DPD_PROFILE);
    const items = await importAll(carrier, REQUEST, { source: `file:${DPD_FILE.replaceAll('\\', '/')}` });

    assert.equal(items.length, DPD_PARCELS);
    assert.equal(items[0].tracking_info.tracking_number, FIRST_DPD_PARCEL);
  });
});

test.describe('profile that converts to no JSON', () => {
  function rootProblem(message) {
    return badRequest('PROFILE_INVALID', `invalid carrier profile:\n  (root): ${message}`, {
      code: 'PROFILE_INVALID',
      problems: [{ path: '(root)', message }],
    });
  }

  const cases = [
    { name: 'undefined', profile: undefined, kind: 'not undefined' },
    { name: 'function', profile: () => DPD_LOCAL_PROFILE, kind: 'not a function' },
    { name: 'symbol', profile: Symbol('profile'), kind: 'not a symbol' },
    {
      name: 'toJSON() returning undefined',
      profile: { toJSON: () => undefined },
      kind: 'but its toJSON() method returns undefined, a function or a symbol',
    },
  ];
  for (const { name, profile, kind } of cases) {
    test(`${name} is one problem at (root)`, () => {
      assert.throws(
        () => createCarrier(profile),
        rootProblem(`the profile must be a JSON object or JSON text, ${kind}`),
      );
    });
  }

  test('missing argument is one problem at (root)', () => {
    assert.throws(
      () => createCarrier(),
      rootProblem('the profile must be a JSON object or JSON text, not undefined'),
    );
  });
});
