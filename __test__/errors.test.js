'use strict';

// Fatal errors of ImportTrackingEvents and createCarrier, against real loopback servers
// and files. Every fatal error must reach the Connect host as an Error with isIntentional,
// the documented statusCode (400, 401, 429 or 520), a code, a message that names the
// source and the next step, and details. Items parsed before a mid-stream failure must
// be yielded before the rejection.
//
// Expected UTC times were converted by hand: Europe/Berlin is UTC+2 in April 2022 (CEST)
// and UTC+1 in January 2022 (CET).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');
const zlib = require('node:zlib');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');
const { startServer, serveBuffer, serveGzip, stallAfter, closedPort, within } = require('./helpers/http.js');

const PARCEL_A = '00340434161094042557';
const PARCEL_B = '00340434161094042564';
const PARCEL_C = '00340434161094042571';
const PARCEL_D = '00340434161094042588';

const HEADER = 'TN;TS;CODE\n';
const ROWS_A = `${PARCEL_A};20220429143447;05\n${PARCEL_A};20220430101500;13\n`;
const ROW_B = `${PARCEL_B};20220115093000;10\n`;
const ROW_C = `${PARCEL_C};20220429160000;05\n`;
const ROW_D = `${PARCEL_D};20220429170000;13\n`;

// Builds a `;`-delimited profile with a header row and the given `source` section.
function profileFor(source, extra = {}) {
  return {
    name: 'errors test carrier',
    source,
    format: { type: 'delimited', delimiter: ';', header: true },
    time_zone: 'Europe/Berlin',
    fields: {
      tracking_number: 'TN',
      event_datetime: { column: 'TS', format: '%Y%m%d%H%M%S' },
      event_code: 'CODE',
    },
    statuses: { '05': 'AC', '10': 'IT', '13': 'DE' },
    ...extra,
  };
}

function event(utc, local, code, status) {
  return {
    event_datetime: utc,
    event_datetime_local: local,
    event_code: code,
    description: null,
    city: null,
    state: null,
    postal_code: null,
    country: null,
    company: null,
    signer: null,
    status_code: status,
  };
}

function shipment(trackingNumber, { status, code, delivered = null }, events) {
  return {
    tracking_info: {
      tracking_number: trackingNumber,
      standardized_status_code: status,
      carrier_status_code: code,
      carrier_status_description: null,
      shipped_datetime: null,
      estimated_delivery_datetime: null,
      actual_delivery_datetime: delivered,
      shipping_problem: false,
      events,
    },
    update_method: 'append',
  };
}

const EXPECTED_A = shipment(PARCEL_A, { status: 'DE', code: '13', delivered: '2022-04-30T08:15:00Z' }, [
  event('2022-04-29T12:34:47Z', '2022-04-29T14:34:47+02:00', '05', 'AC'),
  event('2022-04-30T08:15:00Z', '2022-04-30T10:15:00+02:00', '13', 'DE'),
]);
const EXPECTED_B = shipment(PARCEL_B, { status: 'IT', code: '10' }, [
  event('2022-01-15T08:30:00Z', '2022-01-15T09:30:00+01:00', '10', 'IT'),
]);
const EXPECTED_C = shipment(PARCEL_C, { status: 'AC', code: '05' }, [
  event('2022-04-29T14:00:00Z', '2022-04-29T16:00:00+02:00', '05', 'AC'),
]);
const EXPECTED_D = shipment(PARCEL_D, { status: 'DE', code: '13', delivered: '2022-04-29T15:00:00Z' }, [
  event('2022-04-29T15:00:00Z', '2022-04-29T17:00:00+02:00', '13', 'DE'),
]);

// The summary of an import that failed before reading any of the file.
const EMPTY_SUMMARY = {
    records: 0,
    events: 0,
    shipments: 0,
    errors: 0,
    warnings: 0,
    duplicates: 0,
    bytes: 0,
    replacements: 0,
  };

// Runs an import to its end. Returns the items (each checked against the Connect spec),
// the error the import rejected with (or null) and the summary passed to onSummary.
async function runImport(profile, request = {}, options = {}) {
  const items = [];
  let summary = null;
  let error = null;
  const carrier = createCarrier(profile);
  const onSummary = (value) => {
    summary = value;
  };
  try {
    for await (const item of carrier.ImportTrackingEvents(request, { ...options, onSummary })) {
      assertValidItem(item);
      items.push(item);
    }
  } catch (caught) {
    error = caught;
  }
  return { items, error, summary };
}

// Checks the fields every fatal error shares.
function assertFatal(error, statusCode, code) {
  assert.ok(error instanceof Error, `expected the import to reject with an Error, got ${error}`);
  assert.equal(error.isIntentional, true);
  assert.equal(error.statusCode, statusCode);
  assert.equal(error.code, code);
  assert.equal(error.details.code, code);
}

// Calls createCarrier and returns what it throws.
function profileError(profile) {
  try {
    createCarrier(profile);
  } catch (error) {
    return error;
  }
  assert.fail('createCarrier accepted an invalid profile');
}

// Compresses `parts` as one gzip member with a full flush after each part, so that every
// part ends on a byte boundary. Returns the gzip bytes and the compressed offset at which
// each part ends. A stream cut at such an offset still contains every earlier part whole.
async function gzipParts(parts) {
  const gzip = zlib.createGzip();
  const chunks = [];
  let length = 0;
  gzip.on('data', (chunk) => {
    chunks.push(chunk);
    length += chunk.length;
  });
  const ended = new Promise((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });

  const boundaries = [];
  for (const part of parts) {
    gzip.write(part);
    await new Promise((resolve) => gzip.flush(zlib.constants.Z_FULL_FLUSH, resolve));
    boundaries.push(length);
  }
  gzip.end();
  await ended;
  return { buffer: Buffer.concat(chunks), boundaries };
}

// Serves `body` on a fresh server and imports from `/scan.csv`.
async function importFromBody(body, options = {}) {
  const server = await startServer(serveBuffer(body, options));
  try {
    const url = `${server.url}/scan.csv`;
    const result = await runImport(profileFor({ url }));
    return { ...result, url, server };
  } finally {
    await server.close();
  }
}

test.describe('local file source', () => {
  let directory;
  test.before(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-errors-'));
  });
  test.after(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  test('missing file is 400 SOURCE_NOT_FOUND', async () => {
    const file = path.join(directory, 'scaninfo-missing.csv');
    const { items, error } = await runImport(profileFor({ path: file }));

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'SOURCE_NOT_FOUND');
    assert.ok(error.message.endsWith('; check source.path'), error.message);
    assert.deepEqual(error.details, { code: 'SOURCE_NOT_FOUND', source: file });
  });

  test('missing file with metadata names the metadata', async () => {
    const template = path.join(directory, 'scaninfo-{metadata.depot}.csv');
    const { error } = await runImport(profileFor({ path: template }), { metadata: { depot: '0186' } });

    assertFatal(error, 400, 'SOURCE_NOT_FOUND');
    assert.ok(error.message.includes(path.join(directory, 'scaninfo-0186.csv')), error.message);
    assert.ok(error.message.endsWith('; check source.path and the metadata it uses'), error.message);
  });

  test('missing metadata in path is 400 METADATA_MISSING', async () => {
    const template = path.join(directory, 'scaninfo-{metadata.depot}.csv');
    const { items, error } = await runImport(profileFor({ path: template }), { metadata: { account: 'x' } });

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'METADATA_MISSING');
    assert.match(error.message, /^source\.path uses \{metadata\.depot\}/);
    assert.match(error.message, /add it to the connection's settings/);
    assert.deepEqual(error.details, { code: 'METADATA_MISSING', field: 'metadata.depot' });
  });

  test('unreadable file is 400 SOURCE_FORBIDDEN', async (t) => {
    // A mode of 000 stops every user but root, whose permission checks the kernel skips.
    // /proc/sys/vm/compact_memory (mode 0200) cannot be read by root either, so it is
    // the file for a test that runs as root.
    const writeOnly = '/proc/sys/vm/compact_memory';
    let file = path.join(directory, 'forbidden.csv');
    fs.writeFileSync(file, `${HEADER}${ROWS_A}`);
    fs.chmodSync(file, 0o000);
    if (process.getuid?.() === 0) {
      if (!fs.existsSync(writeOnly)) {
        t.skip(`running as root, and ${writeOnly} is missing on this kernel`);
        return;
      }
      file = writeOnly;
    }
    const { items, error } = await runImport(profileFor({ path: file }));

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'SOURCE_FORBIDDEN');
    assert.equal(error.message, `cannot open ${file}: Permission denied (os error 13); grant this process read access`);
    assert.deepEqual(error.details, { code: 'SOURCE_FORBIDDEN', source: file });
  });

  test('symlink loop is 400 SOURCE_OPEN_FAILED', async () => {
    const file = path.join(directory, 'loop.csv');
    fs.symlinkSync(file, file);
    const { items, error } = await runImport(profileFor({ path: file }));

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'SOURCE_OPEN_FAILED');
    assert.equal(error.message, `cannot open ${file}: Too many levels of symbolic links (os error 40); check source.path`);
    assert.deepEqual(error.details, { code: 'SOURCE_OPEN_FAILED', source: file });
  });

  test('empty file with compression gzip is 520 EMPTY_FILE', async () => {
    const file = path.join(directory, 'empty.csv.gz');
    fs.writeFileSync(file, '');
    const { items, error } = await runImport(profileFor({ path: file }, { compression: 'gzip' }));

    assert.deepEqual(items, []);
    assertFatal(error, 520, 'EMPTY_FILE');
    assert.match(error.message, /the file is empty/);
  });

  test('empty file is 520 EMPTY_FILE', async () => {
    const file = path.join(directory, 'empty.csv');
    fs.writeFileSync(file, '');
    const { items, error, summary } = await runImport(profileFor({ path: file }));

    assert.deepEqual(items, []);
    assertFatal(error, 520, 'EMPTY_FILE');
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /the file is empty/);
    assert.match(error.message, /check that the carrier delivered the complete file and that format.skip_lines is right, then retry/);
    assert.deepEqual(error.details, { code: 'EMPTY_FILE', source: file, lines: 0 });
    assert.equal(summary.records, 0);
    assert.equal(summary.bytes, 0);
  });

  test('empty file without header yields nothing', async () => {
    const file = path.join(directory, 'empty-no-header.csv');
    fs.writeFileSync(file, '');
    const format = { type: 'delimited', delimiter: ';', header: false, columns: ['TN', 'TS', 'CODE'] };
    const { items, error, summary } = await runImport(profileFor({ path: file }, { format }));

    assert.equal(error, null);
    assert.deepEqual(items, []);
    assert.deepEqual(summary, EMPTY_SUMMARY);
  });

  test('directory as path is 400 SOURCE_NOT_A_FILE', async () => {
    const { items, error } = await runImport(profileFor({ path: directory }));

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'SOURCE_NOT_A_FILE');
    assert.ok(error.message.startsWith(`${directory} is a directory`), error.message);
    assert.match(error.message, /point source\.path at the carrier's file/);
    assert.deepEqual(error.details, { code: 'SOURCE_NOT_A_FILE', source: directory });
  });

  test('header-only file yields nothing', async () => {
    const file = path.join(directory, 'header-only.csv');
    fs.writeFileSync(file, HEADER);
    const { items, error, summary } = await runImport(profileFor({ path: file }));

    assert.equal(error, null);
    assert.deepEqual(items, []);
    assert.deepEqual(summary, {
      records: 0,
      events: 0,
      shipments: 0,
      errors: 0,
      warnings: 0,
      duplicates: 0,
      bytes: HEADER.length,
      replacements: 0,
    });
  });
});

test.describe('HTTP status errors', () => {
  for (const status of [401, 403]) {
    test(`HTTP ${status} is 401 SOURCE_UNAUTHORIZED`, async () => {
      const { items, error, url, summary } = await importFromBody('invalid API key', { status });

      assert.deepEqual(items, []);
      assert.deepEqual(summary, EMPTY_SUMMARY);
      assertFatal(error, 401, 'SOURCE_UNAUTHORIZED');
      assert.ok(error.message.includes(url), error.message);
      assert.match(error.message, new RegExp(`returned HTTP ${status}`));
      assert.match(error.message, /check the connection's credentials/);
      assert.deepEqual(error.details, {
        code: 'SOURCE_UNAUTHORIZED',
        source: url,
        http_status: status,
        body: 'invalid API key',
      });
      assert.equal(error.retryAfterSeconds, undefined);
    });
  }

  test('error body is cut to 500 bytes', async () => {
    const body = `${'x'.repeat(499)}yz${'w'.repeat(500)}`;
    const { error } = await importFromBody(body, { status: 500 });

    assertFatal(error, 520, 'SOURCE_SERVER_ERROR');
    assert.equal(error.details.body, `${'x'.repeat(499)}y`);
  });

  for (const status of [404, 410]) {
    test(`HTTP ${status} is 400 SOURCE_NOT_FOUND`, async () => {
      const { items, error, url } = await importFromBody('no such file', { status });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'SOURCE_NOT_FOUND');
      assert.ok(error.message.includes(url), error.message);
      assert.match(error.message, new RegExp(`returned HTTP ${status}`));
      assert.match(error.message, /check source\.url/);
      assert.deepEqual(error.details, {
        code: 'SOURCE_NOT_FOUND',
        source: url,
        http_status: status,
        body: 'no such file',
      });
    });
  }

  test('HTTP 400 is 400 SOURCE_HTTP_ERROR', async () => {
    const { items, error, url } = await importFromBody('missing parameter: day', { status: 400 });

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'SOURCE_HTTP_ERROR');
    assert.ok(error.message.includes(url), error.message);
    assert.match(error.message, /returned HTTP 400/);
    assert.match(error.message, /check source\.url and source\.headers/);
    assert.deepEqual(error.details, {
      code: 'SOURCE_HTTP_ERROR',
      source: url,
      http_status: 400,
      body: 'missing parameter: day',
    });
  });

  for (const status of [500, 503]) {
    test(`HTTP ${status} is 520 SOURCE_SERVER_ERROR`, async () => {
      const { items, error, url } = await importFromBody('upstream failure', { status });

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_SERVER_ERROR');
      assert.ok(error.message.includes(url), error.message);
      assert.match(error.message, new RegExp(`returned HTTP ${status}`));
      assert.match(error.message, /retry later/);
      assert.deepEqual(error.details, {
        code: 'SOURCE_SERVER_ERROR',
        source: url,
        http_status: status,
        body: 'upstream failure',
      });
    });
  }

  test('HTTP 429 with Retry-After: 7 is 429', async () => {
    const { items, error, url } = await importFromBody('slow down', {
      status: 429,
      headers: { 'Retry-After': '7' },
    });

    assert.deepEqual(items, []);
    assertFatal(error, 429, 'SOURCE_RATE_LIMITED');
    assert.equal(error.retryAfterSeconds, 7);
    assert.ok(error.message.includes(url), error.message);
    assert.match(error.message, /returned HTTP 429/);
    assert.match(error.message, /retry later/);
    assert.deepEqual(error.details, {
      code: 'SOURCE_RATE_LIMITED',
      source: url,
      http_status: 429,
      body: 'slow down',
      retry_after_seconds: 7,
    });
  });

  test('HTTP 429 with a past Retry-After date is 0', async () => {
    const { error } = await importFromBody('slow down', {
      status: 429,
      headers: { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    });

    assertFatal(error, 429, 'SOURCE_RATE_LIMITED');
    assert.equal(error.retryAfterSeconds, 0);
    assert.equal(error.details.retry_after_seconds, 0);
  });

  test('HTTP 429 without Retry-After waits 60 s', async () => {
    const { error, url } = await importFromBody('slow down', { status: 429 });

    assertFatal(error, 429, 'SOURCE_RATE_LIMITED');
    assert.equal(error.retryAfterSeconds, 60);
    assert.equal(error.details.retry_after_seconds, 60);
    assert.equal(error.message, `GET ${url} returned HTTP 429 Too Many Requests; retry later (the server sent no valid Retry-After, so retryAfterSeconds is the default of 60)`);
  });
});

test.describe('transport errors', () => {
  test('connection refused is 520 SOURCE_UNREACHABLE', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/scan.csv`;
    const { items, error } = await runImport(profileFor({ url, connect_timeout_seconds: 5 }));

    assert.deepEqual(items, []);
    assertFatal(error, 520, 'SOURCE_UNREACHABLE');
    assert.ok(error.message.startsWith(`GET ${url} could not connect`), error.message);
    assert.match(error.message, /check that the carrier's server is reachable, then retry/);
    assert.deepEqual(error.details, { code: 'SOURCE_UNREACHABLE', source: url });
  });

  test('connection refused message hides the query', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/scan.csv?api_key={metadata.api_key}`;
    const { error } = await runImport(profileFor({ url }), { metadata: { api_key: 'SECRET-9F2C' } });

    assertFatal(error, 520, 'SOURCE_UNREACHABLE');
    assert.equal(error.details.source, `http://127.0.0.1:${port}/scan.csv?…`);
    assert.ok(!error.message.includes('SECRET-9F2C'), error.message);
  });

  test('header timeout message hides the query', async () => {
    const server = await startServer(() => {});
    try {
      const url = `${server.url}/scan.csv?api_key={metadata.api_key}`;
      const profile = profileFor({ url, read_timeout_seconds: 0.5 });
      const { error } = await runImport(profile, { metadata: { api_key: 'SECRET-9F2C' } });

      assertFatal(error, 520, 'SOURCE_TIMEOUT');
      assert.equal(error.details.source, `${server.url}/scan.csv?…`);
      assert.ok(!error.message.includes('SECRET-9F2C'), error.message);
    } finally {
      await server.close();
    }
  });

  test('mid-body timeout message hides the query', async () => {
    const server = await startServer(stallAfter(`${HEADER}${ROWS_A}`));
    try {
      const url = `${server.url}/scan.csv?api_key={metadata.api_key}`;
      const profile = profileFor({ url, read_timeout_seconds: 0.5 });
      const { items, error } = await runImport(profile, { metadata: { api_key: 'SECRET-9F2C' } });

      assert.deepEqual(items, [EXPECTED_A]);
      assertFatal(error, 520, 'SOURCE_TIMEOUT');
      assert.equal(error.details.source, `${server.url}/scan.csv?…`);
      assert.ok(!error.message.includes('SECRET-9F2C'), error.message);
    } finally {
      await server.close();
    }
  });

  test('stall after headers, before the body, is 520 SOURCE_TIMEOUT', async () => {
    const server = await startServer(stallAfter(''));
    try {
      const url = `${server.url}/scan.csv`;
      const { items, error } = await runImport(profileFor({ url, read_timeout_seconds: 0.5 }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_TIMEOUT');
      assert.ok(error.message.startsWith(`GET ${url} timed out`), error.message);
      assert.equal(error.details.source, url);
    } finally {
      await server.close();
    }
  });

  test('stall before headers is 520 SOURCE_TIMEOUT', async () => {
    // The handler never responds, so the request waits for the response headers.
    const server = await startServer(() => {});
    try {
      const url = `${server.url}/scan.csv`;
      const { items, error } = await runImport(profileFor({ url, read_timeout_seconds: 0.5 }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_TIMEOUT');
      assert.ok(error.message.startsWith(`GET ${url} timed out`), error.message);
      assert.match(error.message, /raise source.connect_timeout_seconds or source.read_timeout_seconds, then retry$/);
      assert.deepEqual(error.details, { code: 'SOURCE_TIMEOUT', source: url });
    } finally {
      await server.close();
    }
  });

  test('stall mid-body is 520 SOURCE_TIMEOUT after the events', async () => {
    // Two complete shipments, then half a record, then silence.
    const sent = `${HEADER}${ROWS_A}${ROW_B}${PARCEL_C};2022`;
    const server = await startServer(stallAfter(sent));
    try {
      const url = `${server.url}/scan.csv`;
      const { items, error, summary } = await runImport(profileFor({ url, read_timeout_seconds: 0.5 }));

      assert.deepEqual(items, [EXPECTED_A, EXPECTED_B]);
      assertFatal(error, 520, 'SOURCE_TIMEOUT');
      assert.ok(error.message.startsWith(`GET ${url} timed out`), error.message);
      assert.match(error.message, /then retry/);
      assert.deepEqual(error.details, {
        code: 'SOURCE_TIMEOUT',
        source: url,
        decoded_bytes: Buffer.byteLength(sent),
      });
      assert.equal(summary.records, 3);
      assert.equal(summary.events, 3);
      assert.equal(summary.shipments, 2);
      assert.equal(summary.bytes, Buffer.byteLength(sent));
    } finally {
      await server.close();
    }
  });

  test('gzip body cut short names decompressed bytes', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => `P${i};20220429143447;05`).join('\n');
    const body = zlib.gzipSync(`${HEADER}${rows}\n`);
    const server = await startServer((request, response) => {
      response.writeHead(200, { 'Content-Length': body.length });
      response.write(body.subarray(0, 3000), () => request.socket.destroy());
    });
    try {
      const url = `${server.url}/scan.csv.gz`;
      const { items, error } = await runImport(profileFor({ url }));

      assert.ok(items.length > 0, 'the shipments read before the break are yielded');
      assertFatal(error, 520, 'SOURCE_READ_FAILED');
      assert.ok(error.details.decoded_bytes > 3000, String(error.details.decoded_bytes));
      assert.ok(
        error.message.startsWith(`GET ${url} ended after ${error.details.decoded_bytes} decompressed bytes, before the whole body arrived: `),
        error.message,
      );
    } finally {
      await server.close();
    }
  });

  test('body cut after one byte counts it', async () => {
    const server = await startServer((request, response) => {
      response.writeHead(200, { 'Content-Length': 1000 });
      response.write('T', () => request.socket.destroy());
    });
    try {
      const url = `${server.url}/scan.csv`;
      const { items, error, summary } = await runImport(profileFor({ url }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_READ_FAILED');
      assert.equal(error.details.decoded_bytes, 1);
      assert.ok(error.message.startsWith(`GET ${url} ended after 1 byte, before the whole body arrived: `), error.message);
      assert.equal(summary.bytes, 1);
    } finally {
      await server.close();
    }
  });

  test('connection reset mid-body is 520 after the events', async () => {
    const sent = `${HEADER}${ROWS_A}${ROW_B}`;
    const server = await startServer((request, response) => {
      // Content-Length promises more than is sent, then the socket is destroyed.
      response.writeHead(200, { 'Content-Length': Buffer.byteLength(sent) + 500 });
      response.write(sent, () => request.socket.destroy());
    });
    try {
      const url = `${server.url}/scan.csv`;
      const { items, error } = await runImport(profileFor({ url }));

      assert.deepEqual(items, [EXPECTED_A, EXPECTED_B]);
      assertFatal(error, 520, 'SOURCE_READ_FAILED');
      assert.ok(
        error.message.startsWith(`GET ${url} ended after ${Buffer.byteLength(sent)} bytes, before the whole body arrived: `),
        error.message,
      );
      assert.ok(error.message.endsWith('; retry the import'), error.message);
      assert.deepEqual(error.details, {
        code: 'SOURCE_READ_FAILED',
        source: url,
        decoded_bytes: Buffer.byteLength(sent),
      });
    } finally {
      await server.close();
    }
  });
});

test.describe('gzip', () => {
  test('truncated gzip is 520 GZIP_INVALID after the events', async () => {
    const complete = `${HEADER}${ROWS_A}${ROW_B}`;
    const { buffer, boundaries } = await gzipParts([complete, `${ROW_C}${ROW_D}`]);
    // Cut right after the first part, so the second part is missing entirely.
    const { items, error, url } = await importFromBody(buffer.subarray(0, boundaries[0]));

    assert.deepEqual(items, [EXPECTED_A, EXPECTED_B]);
    assertFatal(error, 520, 'GZIP_INVALID');
    assert.ok(error.message.startsWith(`${url} is not a complete gzip stream`), error.message);
    assert.match(error.message, /retry or ask the carrier to send it again/);
    assert.deepEqual(error.details, {
      code: 'GZIP_INVALID',
      source: url,
      decoded_bytes: Buffer.byteLength(complete),
    });
  });

  test('gzip without its trailer is 520 GZIP_INVALID after all rows', async () => {
    const text = `${HEADER}${ROWS_A}${ROW_B}${ROW_C}${ROW_D}`;
    const compressed = zlib.gzipSync(text);
    // The gzip trailer is the CRC-32 and the length (8 bytes). The cut drops 4 of them.
    const { items, error, url } = await importFromBody(compressed.subarray(0, compressed.length - 4));

    assert.deepEqual(items, [EXPECTED_A, EXPECTED_B, EXPECTED_C, EXPECTED_D]);
    assertFatal(error, 520, 'GZIP_INVALID');
    assert.ok(error.message.includes(url), error.message);
    assert.deepEqual(error.details, {
      code: 'GZIP_INVALID',
      source: url,
      decoded_bytes: Buffer.byteLength(text),
    });
  });

  test('multi-member gzip imports all rows', async () => {
    const first = zlib.gzipSync(`${HEADER}${ROWS_A}${ROW_B}`);
    const second = zlib.gzipSync(`${ROW_C}${ROW_D}`);
    const body = Buffer.concat([first, second]);
    const { items, error, summary } = await importFromBody(body);

    assert.equal(error, null);
    assert.deepEqual(items, [EXPECTED_A, EXPECTED_B, EXPECTED_C, EXPECTED_D]);
    assert.equal(summary.records, 5);
    assert.equal(summary.shipments, 4);
    assert.equal(summary.bytes, body.length);
  });

  test('compression gzip on a plain file is 520 GZIP_INVALID', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const url = `${server.url}/scan.csv`;
      const { items, error } = await runImport(profileFor({ url }, { compression: 'gzip' }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'GZIP_INVALID');
      assert.equal(error.message, `${url} is not gzip: it starts with the bytes 54 4e 3b 54 instead of 1f 8b; set compression to "auto" so that plain files are read as they are`);
      assert.deepEqual(error.details, { code: 'GZIP_INVALID', source: url });
    } finally {
      await server.close();
    }
  });

  test('zero padding after the last member is ignored', async () => {
    const body = Buffer.concat([zlib.gzipSync(`${HEADER}${ROWS_A}`), zlib.gzipSync(ROW_B), Buffer.alloc(2048)]);
    const server = await startServer(serveBuffer(body));
    try {
      const { items, error, summary } = await runImport(profileFor({ url: `${server.url}/scan.csv.gz` }));

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A, EXPECTED_B]);
      assert.equal(summary.bytes, body.length);
    } finally {
      await server.close();
    }
  });

  test('data after the last member is 520 GZIP_INVALID', async () => {
    const body = Buffer.concat([zlib.gzipSync(`${HEADER}${ROWS_A}${ROW_B}`), Buffer.from('\0\0trailer')]);
    const { items, error, url } = await importFromBody(body);

    assert.deepEqual(items, [EXPECTED_A, EXPECTED_B]);
    assertFatal(error, 520, 'GZIP_INVALID');
    assert.ok(
      error.message.startsWith(`${url} is not a complete gzip stream (after the last complete gzip member and 2 zero bytes comes the byte 74, which does not start a gzip member)`),
      error.message,
    );
  });

  test('single-member gzip imports all rows', async () => {
    const server = await startServer(serveGzip(`${HEADER}${ROWS_A}${ROW_B}`));
    try {
      const { items, error } = await runImport(profileFor({ url: `${server.url}/scan.csv.gz` }));

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A, EXPECTED_B]);
    } finally {
      await server.close();
    }
  });
});

test.describe('invalid profile', () => {
  const valid = profileFor({ path: '/nonexistent/scan.csv' });

  const cases = [
    {
      name: 'two-character delimiter',
      profile: { ...valid, format: { ...valid.format, delimiter: ';;' } },
      path: 'format.delimiter',
      mentions: ['`;;`', 'one ASCII character'],
    },
    {
      name: 'unknown time zone',
      profile: { ...valid, time_zone: 'Europe/Atlantis' },
      path: 'time_zone',
      mentions: ['Europe/Atlantis', 'Europe/Berlin'],
    },
    {
      name: 'event_datetime without format',
      profile: { ...valid, fields: { ...valid.fields, event_datetime: 'TS' } },
      path: 'fields.event_datetime.format',
      mentions: ['%Y%m%d%H%M%S'],
    },
    {
      name: 'unknown field',
      profile: { ...valid, fields: { ...valid.fields, tracking_nr: 'TN' } },
      path: 'fields.tracking_nr',
      mentions: ['unknown field `tracking_nr`', '`tracking_number`'],
    },
    {
      name: 'unknown top-level key',
      profile: { ...valid, timezone: 'Europe/Berlin' },
      path: 'timezone',
      mentions: ['unknown field `timezone`', '`time_zone`'],
    },
    {
      name: 'fixed-width column not defined',
      profile: {
        ...valid,
        format: { type: 'fixed-width', columns: { TN: [0, 20], TS: [20, 34] } },
      },
      path: 'fields.event_code',
      mentions: ['`CODE`', 'format.columns', 'TN, TS'],
    },
  ];

  for (const { name, profile, path: problemPath, mentions } of cases) {
    test(`${name} is 400 PROFILE_INVALID`, () => {
      const error = profileError(profile);

      assert.ok(error instanceof Error);
      assert.equal(error.isIntentional, true);
      assert.equal(error.statusCode, 400);
      assert.equal(error.code, 'PROFILE_INVALID');
      assert.equal(error.details.code, 'PROFILE_INVALID');
      assert.deepEqual(
        error.details.problems.map((problem) => problem.path),
        [problemPath],
      );
      for (const text of mentions) {
        assert.ok(error.details.problems[0].message.includes(text), error.details.problems[0].message);
      }
      assert.ok(error.message.includes(`${problemPath}: `), error.message);
    });
  }

  test('several problems are all listed', () => {
    const error = profileError({
      ...valid,
      time_zone: 'Mars/Olympus_Mons',
      format: { ...valid.format, delimiter: '' },
      source: { path: '/nonexistent/scan.csv', read_timeout_seconds: 0 },
    });

    assert.equal(error.statusCode, 400);
    assert.equal(error.code, 'PROFILE_INVALID');
    assert.deepEqual(error.details.problems.map((problem) => problem.path).sort(), [
      'format.delimiter',
      'source.read_timeout_seconds',
      'time_zone',
    ]);
  });

  test('missing profile is 400 PROFILE_INVALID', () => {
    const error = profileError(undefined);

    assert.equal(error.isIntentional, true);
    assert.equal(error.statusCode, 400);
    assert.equal(error.code, 'PROFILE_INVALID');
  });
});

test.describe('metadata placeholders', () => {
  test('missing URL metadata is 400 METADATA_MISSING', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const url = `${server.url}/accounts/{metadata.account_id}/scan.csv`;
      const { items, error } = await runImport(profileFor({ url }), { metadata: { other: '1' } });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'METADATA_MISSING');
      assert.match(error.message, /^source\.url uses \{metadata\.account_id\}/);
      assert.match(error.message, /no `account_id`; add it to the connection's settings or change the profile/);
      assert.deepEqual(error.details, { code: 'METADATA_MISSING', field: 'metadata.account_id' });
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  test('URL metadata is percent-encoded', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const url = `${server.url}/accounts/{metadata.account}/scan.csv?day={metadata.day}&depot={metadata.depot}`;
      const metadata = { account: 'Müller & Söhne/Wien', day: '2022-04-29&all=1', depot: 163 };
      const { items, error } = await runImport(profileFor({ url }), { metadata });

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A]);
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0].method, 'GET');
      assert.equal(
        server.requests[0].url,
        '/accounts/M%C3%BCller%20%26%20S%C3%B6hne%2FWien/scan.csv?day=2022-04-29%26all%3D1&depot=163',
      );
    } finally {
      await server.close();
    }
  });

  test('host metadata with @ is 400 METADATA_INVALID', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const value = `user@127.0.0.1:${server.port}`;
      const { items, error } = await runImport(profileFor({ url: 'http://{metadata.host}/scan.csv' }), {
        metadata: { host: value },
      });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'METADATA_INVALID');
      assert.match(error.message, /cannot be used in source\.url/);
      // The value is left out of the message and details because it may be a credential.
      assert.deepEqual(error.details, { code: 'METADATA_INVALID', field: 'metadata.host' });
      assert.ok(!error.message.includes(value), error.message);
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  test('port metadata that breaks the URL is 400 METADATA_INVALID', async () => {
    for (const port of ['abc', '99999']) {
      const { items, error } = await runImport(profileFor({ url: 'http://127.0.0.1:{metadata.port}/scan.csv' }), {
        metadata: { port },
      });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'METADATA_INVALID');
      assert.equal(error.message, 'source.url: with metadata.port filled in, the URL is not valid (invalid port number); check the port in the connection\'s metadata');
      assert.deepEqual(error.details, { code: 'METADATA_INVALID', field: 'metadata.port' });
    }
  });

  test('headers and basic_auth reach the server', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const source = {
        url: `${server.url}/scan.csv`,
        headers: {
          'X-Api-Key': '{metadata.api_key}',
          'X-Client': 'connect-tracking/{metadata.account}',
        },
        basic_auth: { username: '{metadata.account}', password: 'p@ss:{metadata.pin}' },
      };
      const metadata = { api_key: 'k-93f1a7', account: 'depot-163', pin: 4711 };
      const { items, error } = await runImport(profileFor(source), { metadata });

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A]);
      assert.equal(server.requests.length, 1);
      const headers = server.requests[0].headers;
      assert.equal(headers['x-api-key'], 'k-93f1a7');
      assert.equal(headers['x-client'], 'connect-tracking/depot-163');
      const expected = Buffer.from('depot-163:p@ss:4711', 'utf8').toString('base64');
      assert.equal(headers.authorization, `Basic ${expected}`);
    } finally {
      await server.close();
    }
  });

  test('header metadata with a line break is 400 METADATA_INVALID', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const source = { url: `${server.url}/scan.csv`, headers: { 'X-Api-Key': '{metadata.api_key}' } };
      const value = 'k-93f1a7\r\nX-Injected: 1';
      const { items, error } = await runImport(profileFor(source), { metadata: { api_key: value } });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'METADATA_INVALID');
      assert.match(error.message, /source\.headers\.X-Api-Key/);
      assert.match(error.message, /must not contain line breaks/);
      assert.deepEqual(error.details, { code: 'METADATA_INVALID', field: 'metadata.api_key' });
      assert.ok(!error.message.includes('k-93f1a7'), error.message);
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  test('colon in basic_auth user is 400 METADATA_INVALID', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const source = { url: `${server.url}/scan.csv`, basic_auth: { username: '{metadata.user}', password: 'pw' } };
      const { items, error } = await runImport(profileFor(source), { metadata: { user: 'acme:eu' } });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'METADATA_INVALID');
      assert.equal(error.message, 'metadata.user cannot be used in source.basic_auth.username: a Basic authentication user name must not contain `:`, which separates it from the password');
      assert.deepEqual(error.details, { code: 'METADATA_INVALID', field: 'metadata.user' });
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  test('userinfo metadata is percent-encoded', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const source = { url: `http://{metadata.user}:{metadata.password}@127.0.0.1:${server.port}/scan.csv` };
      const { items, error } = await runImport(profileFor(source), { metadata: { user: 'bob@eu', password: 'p@ss:1/2' } });

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A]);
      const expected = Buffer.from('bob@eu:p@ss:1/2', 'utf8').toString('base64');
      assert.equal(server.requests[0].headers.authorization, `Basic ${expected}`);

      const rejected = await runImport(profileFor(source), { metadata: { user: 'bob:x', password: 'pw' } });
      assertFatal(rejected.error, 400, 'METADATA_INVALID');
      assert.deepEqual(rejected.error.details, { code: 'METADATA_INVALID', field: 'metadata.user' });
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  test('header metadata with DEL is 400 METADATA_INVALID', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const source = { url: `${server.url}/scan.csv`, headers: { 'X-Api-Key': '{metadata.api_key}' } };
      const { items, error } = await runImport(profileFor(source), { metadata: { api_key: 'a\u007fb' } });

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'METADATA_INVALID');
      assert.equal(error.message, 'metadata.api_key cannot be used in source.headers.X-Api-Key: a header value must not contain line breaks or other control characters (tab is allowed)');
      assert.deepEqual(error.details, { code: 'METADATA_INVALID', field: 'metadata.api_key' });
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });
});

// The test CA and the server certificates come from fixtures/tls/make.sh.
test.describe('https', () => {
  const TLS_DIR = path.join(__dirname, 'fixtures', 'tls');
  const CA_FILE = path.join(TLS_DIR, 'ca.pem');
  const SERVER_KEY = fs.readFileSync(path.join(TLS_DIR, 'server-key.pem'));
  const tlsWith = (certificate, key = SERVER_KEY) => ({ key, cert: fs.readFileSync(path.join(TLS_DIR, certificate)) });
  const NO_RETRY = '. A retry does not help until then';

  test('ca_file makes a private CA trusted', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls: tlsWith('server.pem') });
    try {
      assert.ok(server.url.startsWith('https://127.0.0.1:'), server.url);
      const { items, error } = await runImport(profileFor({ url: `${server.url}/scan.csv`, ca_file: CA_FILE }));

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A]);
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  const rejected = [
    {
      name: 'untrusted issuer',
      certificate: 'server.pem',
      caFile: null,
      reason: 'is not signed by a certificate authority that the addon trusts',
      advice: 'the addon trusts the Mozilla root certificates and the ones in source.ca_file, so add the certificate of the carrier\'s private certificate authority there if it uses one, or ask the carrier to send its full certificate chain',
    },
    {
      name: 'expired',
      certificate: 'expired.pem',
      caFile: CA_FILE,
      reason: 'has expired',
      advice: 'ask the carrier to renew the certificate, and check that this machine\'s clock is right',
    },
    {
      name: 'not yet valid',
      certificate: 'not-yet-valid.pem',
      caFile: CA_FILE,
      reason: 'is not valid yet',
      advice: 'ask the carrier to renew the certificate, and check that this machine\'s clock is right',
    },
    {
      name: 'wrong host',
      certificate: 'wrong-host.pem',
      caFile: CA_FILE,
      reason: 'is not valid for the host name in the URL',
      advice: 'use the host name or IP address that the certificate was issued for in source.url',
    },
    {
      name: 'self-signed CA certificate',
      certificate: 'self-signed.pem',
      key: 'self-signed-key.pem',
      caFile: path.join(TLS_DIR, 'self-signed.pem'),
      reason: 'is a certificate authority\'s certificate (basicConstraints CA:TRUE), which cannot identify a server even when it is in source.ca_file',
      advice: 'ask the carrier to present a server certificate (CA:FALSE) signed by that authority, and put the authority\'s certificate in source.ca_file',
    },
  ];
  for (const { name, certificate, key, caFile, reason, advice } of rejected) {
    test(`${name} certificate is 520 SOURCE_CERTIFICATE_INVALID`, async () => {
      const tls = tlsWith(certificate, key ? fs.readFileSync(path.join(TLS_DIR, key)) : SERVER_KEY);
      const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls });
      try {
        const source = { url: `${server.url}/scan.csv`, ...(caFile ? { ca_file: caFile } : {}) };
        const { items, error } = await runImport(profileFor(source));

        assert.deepEqual(items, []);
        assertFatal(error, 520, 'SOURCE_CERTIFICATE_INVALID');
        assert.equal(error.message, `GET ${server.url}/scan.csv failed: the server's TLS certificate was rejected because it ${reason}; ${advice}${NO_RETRY}`);
        assert.equal(error.details.source, `${server.url}/scan.csv`);
        assert.equal(server.requests.length, 0);
      } finally {
        await server.close();
      }
    });
  }

  test('plain HTTP at an https URL is SOURCE_TLS_FAILED', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const url = `${server.url.replace('http:', 'https:')}/scan.csv`;
      const { error } = await runImport(profileFor({ url }));

      assertFatal(error, 520, 'SOURCE_TLS_FAILED');
      assert.equal(error.message, `GET ${url} failed: the server did not respond with TLS; if it serves plain HTTP, use an http:// URL in source.url${NO_RETRY}`);
    } finally {
      await server.close();
    }
  });

  test('redirect target with a bad certificate is named', async () => {
    const secure = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls: tlsWith('expired.pem') });
    const redirector = await startServer((request, response) => {
      response.writeHead(302, { Location: `${secure.url}/scan.csv?key=SECRET` });
      response.end();
    });
    try {
      const { error } = await runImport(profileFor({ url: `${redirector.url}/start.csv`, ca_file: CA_FILE }));

      assertFatal(error, 520, 'SOURCE_CERTIFICATE_INVALID');
      assert.ok(
        error.message.startsWith(`GET ${redirector.url}/start.csv (redirected to ${secure.url}/scan.csv?…) failed: the server's TLS certificate was rejected because it has expired;`),
        error.message,
      );
      assert.equal(error.details.redirected_to, `${secure.url}/scan.csv?…`);
      assert.ok(!error.message.includes('SECRET'), error.message);
    } finally {
      await redirector.close();
      await secure.close();
    }
  });

  test('redirect from https to http is rejected', async () => {
    const plain = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    const secure = await startServer((request, response) => {
      response.writeHead(302, { Location: `${plain.url}/scan.csv` });
      response.end();
    }, { tls: tlsWith('server.pem') });
    try {
      const { items, error } = await runImport(profileFor({ url: `${secure.url}/start.csv`, ca_file: CA_FILE }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_REQUEST_FAILED');
      assert.equal(error.message, `GET ${secure.url}/start.csv failed: the server redirected from https to ${plain.url}/scan.csv, which would send the file unencrypted; set source.url to that http address (its query is left out here) if plain HTTP is intended`);
      assert.equal(plain.requests.length, 0);
    } finally {
      await secure.close();
      await plain.close();
    }
  });

  test('source option named in redirect and certificate advice', async () => {
    const OPTION = 'the source option (--source in the CLI)';
    const plain = await startServer((request, response) => {
      if (request.url === '/ftp') {
        response.writeHead(302, { Location: 'ftp://127.0.0.1/scan.csv' });
      } else {
        response.writeHead(302, { Location: `${other.url}/scan.csv` });
      }
      response.end();
    });
    const other = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    const secure = await startServer((request, response) => {
      response.writeHead(302, { Location: `${plain.url}/scan.csv` });
      response.end();
    }, { tls: tlsWith('server.pem') });
    const wrongHost = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls: tlsWith('wrong-host.pem') });
    try {
      const profile = profileFor({ url: 'http://127.0.0.1:9/unused.csv', ca_file: CA_FILE, headers: { 'X-Api-Key': 'k' } });
      const cases = [
        [`${plain.url}/cross`, 'SOURCE_REQUEST_FAILED', `which are not sent to another origin; set ${OPTION} to the final address of the file`],
        [`${plain.url}/ftp`, 'SOURCE_REQUEST_FAILED', `which is not an http or https address; set ${OPTION} to the final address of the file`],
        [`${secure.url}/start.csv`, 'SOURCE_REQUEST_FAILED', `set ${OPTION} to that http address (its query is left out here) if plain HTTP is intended`],
        [`${wrongHost.url}/scan.csv`, 'SOURCE_CERTIFICATE_INVALID', `use the host name or IP address that the certificate was issued for in ${OPTION}${NO_RETRY}`],
      ];
      for (const [source, code, ending] of cases) {
        const { error } = await runImport(profile, {}, { source });

        assertFatal(error, 520, code);
        assert.ok(error.message.endsWith(ending), error.message);
      }
      assert.equal(other.requests.length, 0);
    } finally {
      await plain.close();
      await other.close();
      await secure.close();
      await wrongHost.close();
    }
  });

  test('client certificate request is SOURCE_TLS_FAILED', async () => {
    const tls = { ...tlsWith('server.pem'), requestCert: true, rejectUnauthorized: true, ca: fs.readFileSync(CA_FILE) };
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls });
    try {
      const { items, error } = await runImport(profileFor({ url: `${server.url}/scan.csv`, ca_file: CA_FILE }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_TLS_FAILED');
      assert.equal(
        error.message,
        `GET ${server.url}/scan.csv failed: the server requires a client certificate, which the addon does not support; ask the carrier for access with a key in source.headers or with source.basic_auth instead${NO_RETRY}`,
      );
    } finally {
      await server.close();
    }
  });

  test('TLS 1.1 server is SOURCE_TLS_FAILED', async () => {
    // SECLEVEL=0 lets OpenSSL 3 in Node serve TLS 1.1 at all.
    const tls = { ...tlsWith('server.pem'), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls });
    try {
      const { items, error } = await runImport(profileFor({ url: `${server.url}/scan.csv`, ca_file: CA_FILE }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_TLS_FAILED');
      assert.equal(
        error.message,
        `GET ${server.url}/scan.csv failed: the server offers no TLS version or cipher suite that the addon accepts (TLS 1.2 and 1.3); ask the carrier to enable TLS 1.2 or 1.3 with current cipher suites${NO_RETRY}`,
      );
    } finally {
      await server.close();
    }
  });

  test('no common cipher suite is SOURCE_TLS_FAILED', async () => {
    // rustls supports no CBC cipher suite, so the handshake fails.
    const tls = { ...tlsWith('server.pem'), maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' };
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls });
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/scan.csv`, ca_file: CA_FILE }));

      assertFatal(error, 520, 'SOURCE_TLS_FAILED');
      assert.match(error.message, /failed: the server offers no TLS version or cipher suite that the addon accepts \(TLS 1\.2 and 1\.3\);/);
    } finally {
      await server.close();
    }
  });

  test('body cut after a redirect names the target', async () => {
    const rows = Array.from({ length: 20000 }, (_, i) => `P${i};20220429143447;05`).join('\n');
    const secure = await startServer((request, response) => {
      response.writeHead(200, { 'Content-Length': HEADER.length + rows.length + 1 });
      response.write(`${HEADER}${rows.slice(0, 100000)}`);
      setTimeout(() => request.socket.destroy(), 20);
    }, { tls: tlsWith('server.pem') });
    const redirector = await startServer((request, response) => {
      response.writeHead(302, { Location: `${secure.url}/scan.csv?key=SECRET` });
      response.end();
    });
    try {
      const { items, error } = await runImport(profileFor({ url: `${redirector.url}/start.csv`, ca_file: CA_FILE }));

      assert.ok(items.length > 0, 'the shipments read before the break are yielded');
      assertFatal(error, 520, 'SOURCE_READ_FAILED');
      assert.ok(error.message.startsWith(`GET ${redirector.url}/start.csv (redirected to ${secure.url}/scan.csv?…) ended after `), error.message);
      assert.ok(error.message.includes(' bytes, before the whole body arrived: '), error.message);
      assert.equal(error.details.redirected_to, `${secure.url}/scan.csv?…`);
      assert.ok(!error.message.includes('docs.rs'), error.message);
    } finally {
      await redirector.close();
      await secure.close();
    }
  });

  test('HTTP status after a redirect names the target', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/start.csv') {
        response.writeHead(302, { Location: '/moved/scan.csv?key=SECRET' });
        response.end();
        return;
      }
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('no such file');
    });
    try {
      const { items, error } = await runImport(profileFor({ url: `${server.url}/start.csv` }));

      assert.deepEqual(items, []);
      assertFatal(error, 400, 'SOURCE_NOT_FOUND');
      assert.equal(
        error.message,
        `GET ${server.url}/start.csv (redirected to ${server.url}/moved/scan.csv?…) returned HTTP 404 Not Found; check source.url`,
      );
      assert.equal(error.details.redirected_to, `${server.url}/moved/scan.csv?…`);
      assert.equal(error.details.http_status, 404);
    } finally {
      await server.close();
    }
  });

  test('HTTP status of a source option names the option', async () => {
    const server = await startServer((request, response) => {
      response.writeHead(request.url === '/gone.csv' ? 404 : 400);
      response.end();
    });
    try {
      const profile = profileFor({ url: 'http://127.0.0.1:9/unused.csv' });
      const missing = await runImport(profile, {}, { source: `${server.url}/gone.csv` });
      assertFatal(missing.error, 400, 'SOURCE_NOT_FOUND');
      assert.equal(
        missing.error.message,
        `GET ${server.url}/gone.csv returned HTTP 404 Not Found; check the source option (--source in the CLI)`,
      );
      assert.equal(missing.error.details.redirected_to, undefined);

      const rejected = await runImport(profile, {}, { source: `${server.url}/bad.csv` });
      assertFatal(rejected.error, 400, 'SOURCE_HTTP_ERROR');
      assert.equal(
        rejected.error.message,
        `GET ${server.url}/bad.csv returned HTTP 400 Bad Request; check the source option (--source in the CLI) and source.headers`,
      );
    } finally {
      await server.close();
    }
  });

  test('redirect changing only the query is named', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/scan.csv?step=1') {
        response.writeHead(302, { Location: '/scan.csv?step=2' });
        response.end();
        return;
      }
      response.writeHead(404);
      response.end();
    });
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/scan.csv?step=1` }));

      assertFatal(error, 400, 'SOURCE_NOT_FOUND');
      assert.equal(
        error.message,
        `GET ${server.url}/scan.csv?… (redirected to ${server.url}/scan.csv?…) returned HTTP 404 Not Found; check source.url`,
      );
      assert.equal(error.details.redirected_to, `${server.url}/scan.csv?…`);
    } finally {
      await server.close();
    }
  });

  test('URL with metadata names the metadata on 404', async () => {
    const server = await startServer((request, response) => {
      response.writeHead(404);
      response.end();
    });
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/files/{metadata.id}.csv` }), { metadata: { id: 42 } });

      assertFatal(error, 400, 'SOURCE_NOT_FOUND');
      assert.equal(error.message, `GET ${server.url}/files/42.csv returned HTTP 404 Not Found; check source.url and the metadata it uses`);
    } finally {
      await server.close();
    }
  });

  test('redirect and TLS advice name the source option', async () => {
    const server = await startServer((request, response) => {
      const step = Number(request.url.slice('/loop'.length));
      response.writeHead(302, { Location: `/loop${step + 1}` });
      response.end();
    });
    try {
      const profile = profileFor({ url: 'http://127.0.0.1:9/unused.csv' });
      const looping = await runImport(profile, {}, { source: `${server.url}/loop0` });
      assertFatal(looping.error, 520, 'SOURCE_REQUEST_FAILED');
      assert.ok(
        looping.error.message.endsWith('the server redirected more than 10 times; set the source option (--source in the CLI) to the final address of the file'),
        looping.error.message,
      );

      const plain = await runImport(profile, {}, { source: `${server.url.replace('http:', 'https:')}/loop0` });
      assertFatal(plain.error, 520, 'SOURCE_TLS_FAILED');
      assert.ok(
        plain.error.message.includes('if it serves plain HTTP, use an http:// URL in the source option (--source in the CLI)'),
        plain.error.message,
      );
    } finally {
      await server.close();
    }
  });

  test('ca_file with a byte order mark is read', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-ca-'));
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`), { tls: tlsWith('server.pem') });
    try {
      const caFile = path.join(directory, 'bom.pem');
      fs.writeFileSync(caFile, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(CA_FILE)]));
      const { items, error } = await runImport(profileFor({ url: `${server.url}/scan.csv`, ca_file: caFile }));

      assert.equal(error, null);
      assert.deepEqual(items, [EXPECTED_A]);
    } finally {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  test('unusable ca_file is 400 CA_FILE_INVALID', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-ca-'));
    const write = (name, content) => {
      const file = path.join(directory, name);
      fs.writeFileSync(file, content);
      return file;
    };
    const pem = fs.readFileSync(CA_FILE, 'utf8');
    const der = new crypto.X509Certificate(pem).raw;
    const notCertificate = Buffer.from('not a certificate, but valid base64').toString('base64');
    const cases = [
      { name: 'missing', file: path.join(directory, 'missing.pem'), problem: 'cannot be read (No such file or directory (os error 2))' },
      { name: 'directory', file: directory, problem: 'is not a regular file but a directory, device or pipe' },
      { name: 'device', file: '/dev/zero', problem: 'is not a regular file but a directory, device or pipe' },
      { name: 'too large', file: write('large.pem', Buffer.alloc(4 * 1024 * 1024 + 1, 0x41)), problem: 'is 4194305 bytes long, more than the 4194304 bytes that a CA bundle needs' },
      { name: 'no certificate', file: path.join(TLS_DIR, 'server-key.pem'), problem: 'contains no certificate; it must contain one or more -----BEGIN CERTIFICATE----- blocks' },
      { name: 'bad base64', file: write('bad.pem', '-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n'), problem: 'contains a CERTIFICATE block (number 1, counting from 1) that is not valid PEM (base64 between the BEGIN and END lines)' },
      { name: 'not X.509', file: write('garbage.pem', `-----BEGIN CERTIFICATE-----\n${notCertificate}\n-----END CERTIFICATE-----\n`), problem: 'contains a CERTIFICATE block (number 1, counting from 1) that is not a valid X.509 certificate' },
      { name: 'bad second block', file: write('bundle.pem', `${pem}-----BEGIN CERTIFICATE-----\n${notCertificate}\n-----END CERTIFICATE-----\n`), problem: 'contains a CERTIFICATE block (number 2, counting from 1) that is not a valid X.509 certificate' },
    ];
    const derFile = write('ca.der', der);
    cases.push({
      name: 'DER',
      file: derFile,
      problem: `looks like a DER (binary) certificate, not PEM text; convert it with \`openssl x509 -inform DER -in ${derFile} -out ${derFile}.pem\` and point source.ca_file at the result`,
    });
    try {
      for (const { name, file, problem } of cases) {
        const { items, error } = await runImport(profileFor({ url: 'https://127.0.0.1:9/scan.csv', ca_file: file }));

        assert.deepEqual(items, [], name);
        assertFatal(error, 400, 'CA_FILE_INVALID');
        assert.equal(error.message, `source.ca_file ${file} ${problem}; source.ca_file must name a PEM file that contains the CA certificates of the carrier's server`, name);
        assert.deepEqual(error.details, { code: 'CA_FILE_INVALID', field: 'source.ca_file', value: file }, name);
      }
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});

test.describe('header row', () => {
  test('missing mapped column is 400 COLUMN_NOT_FOUND', async () => {
    const { items, error, url } = await importFromBody(`TN;TS;STATUS\n${PARCEL_A};20220429143447;05\n`);

    assert.deepEqual(items, []);
    assertFatal(error, 400, 'COLUMN_NOT_FOUND');
    assert.ok(error.message.includes(`the header of ${url}`), error.message);
    assert.ok(error.message.includes('column `CODE`'), error.message);
    assert.ok(error.message.includes('the columns are: "TN", "TS", "STATUS"'), error.message);
    assert.match(error.message, /Fix the column name in the profile/);
    assert.deepEqual(error.details, {
      code: 'COLUMN_NOT_FOUND',
      field: 'fields.event_code',
      path: 'fields.event_code',
      value: 'CODE',
      source: url,
    });
  });

  test('missing column names its reference path', async () => {
    const cases = [
      [{ column: 'CODE' }, 'fields.event_code.column'],
      [{ columns: ['STATUS', 'CODE'] }, 'fields.event_code.columns[1]'],
      [{ columns: [2, 7] }, 'fields.event_code.columns[1]'],
    ];
    const server = await startServer(serveBuffer(`TN;TS;STATUS\n${PARCEL_A};20220429143447;05\n`));
    for (const [eventCode, expectedPath] of cases) {
      const profile = profileFor({ url: `${server.url}/scan.csv` });
      profile.fields = { ...profile.fields, event_code: eventCode };
      const { error } = await runImport(profile);

      assertFatal(error, 400, 'COLUMN_NOT_FOUND');
      assert.equal(error.details.path, expectedPath);
      assert.equal(error.details.field, 'fields.event_code');
      assert.ok(error.message.startsWith(`${expectedPath}: column `), error.message);
    }
    await server.close();
  });

  test('empty HTTP body is 520 EMPTY_FILE', async () => {
    const { items, error, url } = await importFromBody('');

    assert.deepEqual(items, []);
    assertFatal(error, 520, 'EMPTY_FILE');
    assert.ok(error.message.includes(url), error.message);
    assert.deepEqual(error.details, { code: 'EMPTY_FILE', source: url, lines: 0 });
  });
});

test('finished import closes its connection', async () => {
  const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
  try {
    const { items, error } = await runImport(profileFor({ url: `${server.url}/scan.csv` }));

    assert.equal(error, null);
    assert.deepEqual(items, [EXPECTED_A]);
    assert.equal(server.connections.length, 1);
    await within(server.connections[0].closed, 5000, 'closing the import connection');
  } finally {
    await server.close();
  }
});

test('Track is 400 NOT_IMPLEMENTED', async () => {
  const carrier = createCarrier(profileFor({ path: '/nonexistent/scan.csv' }));
  const request = {
    transaction_id: '5f2b8a0e-3c1d-4e7f-9a6b-2d4c8e1f0a3b',
    metadata: {},
    identifiers: [{ type: 'tracking_number', value: PARCEL_A }],
  };

  await assert.rejects(carrier.Track(request), (error) => {
    assert.equal(error.name, 'ConnectTrackingError');
    assert.equal(error.statusCode, 400);
    assert.equal(error.isIntentional, true);
    assert.equal(error.code, 'NOT_IMPLEMENTED');
    assert.equal(error.message, 'Track is not implemented yet in connect-tracking; use ImportTrackingEvents');
    assert.deepEqual(error.details, { code: 'NOT_IMPLEMENTED' });
    return true;
  });
});
