'use strict';

// Inputs at the edges: lines without line feeds, files that hold no header, broken header
// rows, wrong delimiters, bytes invalid in the profile's encoding, daylight saving gaps,
// impossible UTC offsets, very long shipments, and HTTP redirects, retries and content
// encodings. Servers are real loopback servers started by the tests.
//
// Expected UTC times were converted by hand: Europe/Berlin switched to summer time at
// 2024-03-31 02:00 local time, so 02:30 did not exist and reads as 03:30+02:00 (01:30Z).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');
const zlib = require('node:zlib');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');
const { startServer, serveBuffer } = require('./helpers/http.js');

const MAX_LINE = 4 << 20;
const DHL_FILE = path.join(__dirname, 'fixtures/real/dhl-de_repsrd-standardbericht_latin1-semicolon-header.csv');

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-limits-'));
test.after(() => fs.rmSync(directory, { recursive: true, force: true }));

function writeFile(name, content) {
  const file = path.join(directory, name);
  fs.writeFileSync(file, content);
  return file;
}

function profileFor(source, extra = {}) {
  return {
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

async function runImport(profile, request = {}, options = {}) {
  const items = [];
  let summary = null;
  let error = null;
  try {
    const carrier = createCarrier(profile);
    const onSummary = (value) => {
      summary = value;
    };
    for await (const item of carrier.ImportTrackingEvents(request, { ...options, onSummary })) {
      assertValidItem(item);
      items.push(item);
    }
  } catch (caught) {
    error = caught;
  }
  return { items, error, summary };
}

function assertFatal(error, statusCode, code) {
  assert.ok(error instanceof Error, `expected the import to reject with an Error, got ${error}`);
  assert.equal(error.isIntentional, true);
  assert.equal(error.statusCode, statusCode);
  assert.equal(error.code, code);
}

test('line longer than 4 MiB', async (t) => {
  await t.test('data line is skipped as a bad record', async () => {
    const long = 'x'.repeat(MAX_LINE + 1);
    const file = writeFile('long-line.csv', `TN;TS;CODE\nA1;20240102100000;05\nB1;20240102100000;${long}\nC1;20240102110000;13\n`);
    const { items, error, summary } = await runImport(profileFor({ path: file }));

    assert.equal(error, null);
    assert.deepEqual(items.map((item) => item.tracking_info?.tracking_number ?? 'error'), ['error', 'A1', 'C1']);
    assert.match(items[0].error_messages[0], new RegExp(`^${file}:3: the line is longer than ${MAX_LINE} bytes`));
    assert.ok(items[0].error_messages[0].includes(`(it starts with "B1;20240102100000;xxx`), items[0].error_messages[0]);
    assert.ok(
      items[0].error_messages[0].endsWith(", so it was skipped; check format.delimiter, the file's line breaks and encoding."),
      items[0].error_messages[0],
    );
    assert.equal(summary.errors, 1);
    assert.equal(summary.records, 3);
  });

  await t.test('long file with CR line breaks', async () => {
    // More than MAX_LINE bytes, which used to be read as one line.
    const rowCount = Math.ceil(MAX_LINE / 20) + 10;
    const rows = [];
    for (let index = 0; index < rowCount; index++) rows.push(`T${index};20240102100000;05\r`);
    const file = writeFile('carriage-returns.csv', `TN;TS;CODE\r${rows.join('')}`);
    const { items, error, summary } = await runImport(profileFor({ path: file }));

    assert.equal(error, null);
    assert.equal(summary.records, rowCount);
    assert.equal(summary.errors, 0);
    assert.equal(items.length, rowCount);
    assert.equal(items.at(-1).tracking_info.tracking_number, `T${rowCount - 1}`);
  });
});

test('CR line breaks without a header', async (t) => {
  await t.test('delimited', async () => {
    const file = writeFile('carriage-returns-small.csv', 'A1;20240102100000;05\rA2;20240102110000;05\rA3;20240102120000;05\r');
    const profile = profileFor({ path: file });
    profile.format.header = false;
    profile.fields = { tracking_number: 0, event_datetime: { column: 1, format: '%Y%m%d%H%M%S' }, event_code: 2 };
    const { items, error, summary } = await runImport(profile);

    assert.equal(error, null);
    assert.deepEqual(items.map((item) => item.tracking_info.tracking_number), ['A1', 'A2', 'A3']);
    assert.equal(items[2].tracking_info.events[0].event_datetime, '2024-01-02T11:00:00Z');
    assert.equal(summary.records, 3);
  });

  await t.test('fixed width', async () => {
    const file = writeFile('carriage-returns-fixed.txt', 'A120240102100000\rA220240102110000');
    const profile = profileFor({ path: file });
    profile.format = { type: 'fixed-width', columns: { tn: [0, 2], ts: [2, 16] } };
    profile.fields = { tracking_number: 'tn', event_datetime: { column: 'ts', format: '%Y%m%d%H%M%S' } };
    const { items, error } = await runImport(profile);

    assert.equal(error, null);
    assert.deepEqual(items.map((item) => item.tracking_info.tracking_number), ['A1', 'A2']);
  });
});

test('summary counts warnings left out of an item', async () => {
  const rows = [];
  for (let index = 0; index < 60; index++) {
    rows.push(`A1;202401021000${String(index).padStart(2, '0')};X${index}\n`);
  }
  const file = writeFile('many-warnings.csv', `TN;TS;CODE\n${rows.join('')}`);
  const { items, error, summary } = await runImport(profileFor({ path: file }));

  assert.equal(error, null);
  assert.equal(items.length, 1);
  assert.equal(items[0].warning_messages.length, 51);
  assert.equal(items[0].warning_messages[50], `${file}:2: 10 more warnings for this shipment were left out`);
  assert.equal(summary.warnings, 60);
});

test('two joined exports with byte order marks', async () => {
  const part = (time) => `\ufeffA1;${time};05\n`;
  const file = writeFile('joined.csv', `${part('20240102100000')}${part('20240102110000')}`);
  const profile = profileFor({ path: file });
  profile.format.header = false;
  profile.fields = { tracking_number: 0, event_datetime: { column: 1, format: '%Y%m%d%H%M%S' }, event_code: 2 };
  const { items, error } = await runImport(profile);

  assert.equal(error, null);
  assert.equal(items.length, 1);
  assert.equal(items[0].tracking_info.tracking_number, 'A1');
  assert.equal(items[0].tracking_info.events.length, 2);
});

test('CR in a header after LF lines', async () => {
  const file = writeFile('carriage-return-header.csv', 'exported 2024-01-02\nTN;TS\rX;CODE\nA1;20240102100000;05\n');
  const profile = profileFor({ path: file });
  profile.format.skip_lines = 1;
  const { items, error, summary } = await runImport(profile);

  assert.deepEqual(items, []);
  assertFatal(error, 520, 'HEADER_INVALID');
  assert.equal(error.message, `${file}:2: the header row contains a carriage return (CR) without a line feed, but the lines before it end with LF or CRLF, so the CR does not end the header: use one kind of line break in the whole file`);
  assert.equal(summary.records, 0);
});

test('column index past the header', async () => {
  const file = writeFile('index.csv', 'TN;TS;CODE\nA1;20240102100000;05\n');
  const profile = profileFor({ path: file });
  profile.fields.event_code = 7;
  const { error } = await runImport(profile);

  assertFatal(error, 400, 'COLUMN_NOT_FOUND');
  assert.equal(error.message, `fields.event_code: column index 7 is past the 3 columns of the header of ${file} (indexes start at 0); fix the index in the profile`);
});

test('file without a header row', async (t) => {
  await t.test('blank lines only', async () => {
    const file = writeFile('blank.csv', '\n   \n\t\n');
    const { error } = await runImport(profileFor({ path: file }));

    assertFatal(error, 520, 'EMPTY_FILE');
    assert.equal(error.message, `${file} has no header row because its 3 lines are all blank; check that the carrier delivered the complete file and that format.skip_lines is right, then retry`);
    assert.equal(error.details.lines, 3);
  });

  await t.test('every line skipped by skip_lines', async () => {
    const file = writeFile('skipped.csv', 'report\nTN;TS;CODE\n');
    const profile = profileFor({ path: file });
    profile.format.skip_lines = 5;
    const { error } = await runImport(profile);

    assertFatal(error, 520, 'EMPTY_FILE');
    assert.match(error.message, /because all of its 2 lines are skipped by format.skip_lines \(5\)/);
  });
});

test('header row problems', async (t) => {
  await t.test('unterminated quote names the line', async () => {
    const file = writeFile('header-quote.csv', 'report of 2024-01-02\nTN;"TS;CODE\nA1;20240102100000;05\n');
    const profile = profileFor({ path: file });
    profile.format.skip_lines = 1;
    const { error } = await runImport(profile);

    assertFatal(error, 520, 'HEADER_INVALID');
    assert.equal(error.message, `${file}:2: the header row opens a quote that is not closed on the same line; fix the header row, or set format.quote to the quote character the file uses`);
    assert.deepEqual(error.details, { code: 'HEADER_INVALID', source: file, line: 2 });
  });

  await t.test('second byte order mark is not part of a name', async () => {
    const file = writeFile('two-boms.csv', Buffer.from('\uFEFF\uFEFFTN;TS;CODE\nA1;20240102100000;05\n', 'utf8'));
    const { items, error } = await runImport(profileFor({ path: file }));

    assert.equal(error, null);
    assert.equal(items.length, 1);
    assert.equal(items[0].tracking_info.tracking_number, 'A1');
    assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z');
  });

  await t.test('wrong delimiter gets a hint', async () => {
    const file = writeFile('commas.csv', 'TN,TS,CODE\nA1,20240102100000,05\n');
    const { error } = await runImport(profileFor({ path: file }));

    assertFatal(error, 400, 'COLUMN_NOT_FOUND');
    assert.ok(error.message.includes('the columns are: "TN,TS,CODE".'), error.message);
    assert.ok(error.message.endsWith('The header was read as a single column although it contains \',\': check format.delimiter'), error.message);
  });
});

test('Latin-1 file read as UTF-8 warns per record', async () => {
  // The real DHL report is ISO-8859-1; read as UTF-8, each byte from 0x80 up is invalid.
  const bytes = fs.readFileSync(DHL_FILE);
  const lines = bytes.toString('latin1').split('\n');
  const linesWithInvalidBytes = new Set();
  lines.forEach((line, index) => {
    if (index > 0 && /[\x80-\xff]/.test(line)) linesWithInvalidBytes.add(index + 1);
  });
  const expectedReplacements = [...bytes.toString('utf8')].filter((c) => c === '\uFFFD').length;

  const profile = {
    source: { path: DHL_FILE },
    encoding: 'utf-8',
    format: { type: 'delimited', delimiter: ';', header: true },
    time_zone: 'Europe/Berlin',
    fields: {
      tracking_number: 'Piece-Code (Identifizierer)',
      event_datetime: { column: 'Erfassungszeitpunkt', format: '%Y-%m-%d %H:%M:%S' },
      event_code: 'Status Event',
    },
    // Every scan is listed twice; a removed duplicate takes its warning with it.
    grouping: { deduplicate: false },
  };
  const { items, error, summary } = await runImport(profile);

  assert.equal(error, null);
  const warned = new Set();
  for (const item of items) {
    for (const warning of item.warning_messages ?? []) {
      const match = /:(\d+): the record contains bytes that are not valid utf-8, which were replaced by U\+FFFD; set encoding to the file's real encoding \(windows-1252 for Latin-1 files\)$/.exec(warning);
      if (match) warned.add(Number(match[1]));
    }
  }
  assert.ok(linesWithInvalidBytes.size > 0);
  assert.deepEqual([...warned].sort((a, b) => a - b), [...linesWithInvalidBytes].sort((a, b) => a - b));
  assert.equal(summary.replacements, expectedReplacements);
});

test('daylight saving gap', async (t) => {
  await t.test('moved time keeps a different scan apart', async () => {
    const file = writeFile('gap.csv', 'TN;TS;CODE\nA1;20240331023000;10\nA1;20240331033000;10\n');
    const { items, error } = await runImport(profileFor({ path: file }));

    assert.equal(error, null);
    const info = items[0].tracking_info;
    assert.deepEqual(info.events.map((event) => [event.event_datetime, event.event_datetime_local]), [
      ['2024-03-31T01:30:00Z', '2024-03-31T03:30:00+02:00'],
      ['2024-03-31T01:30:00Z', '2024-03-31T03:30:00+02:00'],
    ]);
    assert.deepEqual(items[0].warning_messages, [
      `${file}:2: event_datetime "20240331023000" does not exist in the time zone Europe/Berlin, because the clocks were moved forward then; it was read as 2024-03-31T03:30:00+02:00`,
    ]);
  });

  await t.test('repeated gap row is still a duplicate', async () => {
    const file = writeFile('gap-twice.csv', 'TN;TS;CODE\nA1;20240331023000;10\nA1;20240331023000;10\n');
    const { items, summary } = await runImport(profileFor({ path: file }));

    assert.equal(items[0].tracking_info.events.length, 1);
    assert.equal(summary.duplicates, 1);
  });
});

test('record UTC offsets out of range are bad records', async () => {
  const rows = ['A1;20240102100000;+24:00', 'A2;20240102100000;+0099', 'A3;20240102100000;+02:', 'A4;20240102100000;localtime', 'A5;20240102100000;+23:30'];
  const file = writeFile('offsets.csv', `TN;TS;TZ\n${rows.join('\n')}\n`);
  const profile = profileFor({ path: file });
  profile.fields = { ...profile.fields, time_zone: 'TZ' };
  delete profile.fields.event_code;
  const { items, error } = await runImport(profile);

  assert.equal(error, null);
  const errors = items.filter((item) => item.error_messages).map((item) => item.error_messages[0]);
  assert.equal(errors.length, 4);
  assert.match(errors[0], /:2: .*`\+24:00` is not a valid UTC offset: hours must be 00 to 23 and minutes 00 to 59/);
  assert.match(errors[1], /:3: .*`\+0099` is not a valid UTC offset/);
  assert.match(errors[2], /:4: .*`\+02:` is not a UTC offset such as \+02:00, \+0200 or \+02/);
  assert.match(errors[3], /:5: .*`localtime` is not the time zone of a place/);
  const good = items.find((item) => item.tracking_info);
  assert.equal(good.tracking_info.events[0].event_datetime, '2024-01-01T10:30:00Z');
  assert.equal(good.tracking_info.events[0].event_datetime_local, '2024-01-02T10:00:00+23:30');
});

test('number warnings name the column and value', async () => {
  const file = writeFile(
    'numbers.csv',
    'TN;TS;CODE;KG;PIECES\nA1;20240102100000;05;NaN;1\nB2;20240102100000;05;-inf;1\nC3;20240102100000;05;2,5;1.5\nD4;20240102100000;;1;2\nE5;20240102100000;05;-1e400;1\nF6;20240102100000;05;1e-400;1\nG7;20240102100000;05;0e5;1\nH8;20240102100000;05;;1\n',
  );
  const profile = profileFor({ path: file });
  profile.fields = { ...profile.fields, weight: { column: 'KG', default: 'n/a' }, package_count: 'PIECES' };
  const { items, error } = await runImport(profile);

  assert.equal(error, null);
  assert.deepEqual(items.map((item) => item.warning_messages ?? []), [
    [`${file}:2: weight "NaN" (column KG) is not a finite number and was left out`],
    [`${file}:3: weight "-inf" (column KG) is not a finite number and was left out`],
    [`${file}:4: package_count "1.5" (column PIECES) is not a whole number from 0 to 2147483647 and was left out`],
    [`${file}:5: the carrier status code (column CODE) is empty, so the event has status UN; set fields.event_code.default for records without a code`],
    [`${file}:6: weight "-1e400" (column KG) is outside the range of a number and was left out`],
    [`${file}:7: weight "1e-400" (column KG) is too close to 0 for a number and was left out`],
    [],
    [`${file}:9: weight "n/a" (the default of fields.weight, because column KG is empty) is not a number and was left out`],
  ]);
  assert.deepEqual(items.map((item) => [item.tracking_info.weight ?? null, item.tracking_info.package_count ?? null]), [
    [null, 1], [null, 1], [2.5, null], [1, 2], [null, 1], [null, 1], [0, 1], [null, 1],
  ]);
});

test('out-of-range position names the coordinate', async () => {
  const file = writeFile('geo.csv', 'TN;TS;CODE;LAT;LON\nA1;20240102100000;05;91;0\nB2;20240102100000;05;48.1;-200\nC3;20240102100000;05;-95;181\nD4;20240102100000;05;48.1;11.5\nE5;20240102100000;05;1e300;0\nF6;20240102100000;05;1e400;0\nG7;20240102100000;05;1e21;0\nH8;20240102100000;05;-90;180\nI9;20240102100000;05;90;-180\n');
  const profile = profileFor({ path: file });
  profile.fields = { ...profile.fields, latitude: 'LAT', longitude: 'LON' };
  const { items, error } = await runImport(profile);

  assert.equal(error, null);
  assert.deepEqual(items.map((item) => item.warning_messages ?? []), [
    [`${file}:2: latitude "91" (column LAT) is outside -90 to 90, so the position was left out`],
    [`${file}:3: longitude "-200" (column LON) is outside -180 to 180, so the position was left out`],
    [`${file}:4: latitude "-95" (column LAT) is outside -90 to 90 and longitude "181" (column LON) is outside -180 to 180, so the position was left out`],
    [],
    [`${file}:6: latitude "1e300" (column LAT) is outside -90 to 90, so the position was left out`],
    [`${file}:7: latitude "1e400" (column LAT) is outside the range of a number and was left out`],
    [`${file}:8: latitude "1e21" (column LAT) is outside -90 to 90, so the position was left out`],
    [],
    [],
  ]);
  assert.deepEqual(items.map((item) => item.tracking_info.events[0].geo ?? null), [
    null, null, null, { lat: 48.1, long: 11.5 }, null, null, null, { lat: -90, long: 180 }, { lat: 90, long: -180 },
  ]);
});

test('still compressed windows-1252 file hints at compression', async () => {
  const file = path.join(directory, 'latin.csv.gz');
  fs.writeFileSync(file, zlib.gzipSync('TN;TS;CODE\nA1;20240102100000;05\n'));
  const { error } = await runImport(profileFor({ path: file }, { compression: 'none', encoding: 'windows-1252' }));

  assertFatal(error, 400, 'COLUMN_NOT_FOUND');
  assert.match(error.message, /\. The file starts with the gzip magic bytes 1f 8b, so it is still compressed: set compression to "auto" or "gzip"$/);
});

test('reappearing tracking number warning names the line', async () => {
  const file = writeFile('reappears.csv', 'TN;TS;CODE\nA1;20240102100000;05\nB2;20240102110000;05\nA1;20240102120000;13\n');
  const profile = profileFor({ path: file }, { update_method: 'replace', grouping: { max_open_shipments: 1 } });
  const { items, error } = await runImport(profile);

  assert.equal(error, null);
  assert.deepEqual(items.map((item) => [item.tracking_info.tracking_number, item.update_method]), [['A1', 'replace'], ['B2', 'replace'], ['A1', 'append']]);
  assert.deepEqual(items[2].warning_messages, [
    `${file}:4: tracking number A1 appeared again after its earlier events were yielded, because more other shipments than grouping.max_open_shipments (1) came between, so these events are sent with update_method append; raise grouping.max_open_shipments or sort the file by tracking number`,
  ]);
});

test('shipment over 1000 events comes in parts', async () => {
  const rows = [];
  for (let minute = 0; minute < 1200; minute++) {
    const hour = String(Math.floor(minute / 60)).padStart(2, '0');
    const minutes = String(minute % 60).padStart(2, '0');
    rows.push(`A1;202401${String(2 + Math.floor(minute / 1440)).padStart(2, '0')}${hour}${minutes}00;10`);
  }
  const file = writeFile('long-shipment.csv', `TN;TS;CODE\n${rows.join('\n')}\n`);
  const { items, error } = await runImport(profileFor({ path: file }, { update_method: 'replace' }));

  assert.equal(error, null);
  assert.deepEqual(items.map((item) => item.tracking_info.events.length), [1000, 200]);
  assert.deepEqual(items.map((item) => item.update_method), ['replace', 'append']);
  assert.equal(items[1].tracking_info.events[0].event_datetime_local, '2024-01-02T16:40:00+01:00');
  // Part 1 starts at the first data row (line 2), part 2 at the 1001st (line 1002).
  assert.deepEqual(items[0].warning_messages, [`${file}:2: tracking number A1 has more than 1000 events, so they are yielded in parts; this is part 1`]);
  assert.deepEqual(items[1].warning_messages, [`${file}:1002: tracking number A1 has more than 1000 events, so they are yielded in parts; this is part 2 and is sent with update_method append, because replace would erase the parts before it`]);
});

test('HTTP redirects, retries and encodings', async (t) => {
  const body = 'TN;TS;CODE\nA1;20240102100000;05\n';
  const target = await startServer(serveBuffer(body));
  t.after(() => target.close());

  await t.test('cross-origin redirect with credentials is refused', async () => {
    const redirector = await startServer((request, response) => {
      response.writeHead(302, { Location: `${target.url}/file.csv` });
      response.end();
    });
    try {
      const before = target.requests.length;
      const source = { url: `${redirector.url}/file.csv`, headers: { 'X-Api-Key': '{metadata.key}' } };
      const { items, error } = await runImport(profileFor(source), { metadata: { key: 'SECRET-KEY' } });

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_REQUEST_FAILED');
      assert.ok(error.message.includes(`redirected to another origin, ${target.url}/file.csv, and the request carries credentials`), error.message);
      assert.equal(error.message.split('set source.url to the final address').length, 2, error.message);
      assert.ok(!error.message.includes('SECRET-KEY'));
      assert.equal(target.requests.length, before);
    } finally {
      await redirector.close();
    }
  });

  await t.test('cross-origin redirect with basic_auth is rejected', async () => {
    const redirector = await startServer((request, response) => {
      response.writeHead(302, { Location: `${target.url}/file.csv` });
      response.end();
    });
    try {
      const before = target.requests.length;
      const source = { url: `${redirector.url}/file.csv`, basic_auth: { username: 'depot', password: 'SECRET-PASSWORD' } };
      const { error } = await runImport(profileFor(source));

      assertFatal(error, 520, 'SOURCE_REQUEST_FAILED');
      assert.ok(error.message.includes(`redirected to another origin, ${target.url}/file.csv, and the request carries credentials`), error.message);
      assert.equal(target.requests.length, before);
    } finally {
      await redirector.close();
    }
  });

  await t.test('redirects stop after 10', async () => {
    const looping = await startServer((request, response) => {
      const hop = Number(request.url.slice(1)) || 0;
      response.writeHead(302, { Location: `/${hop + 1}` });
      response.end();
    });
    try {
      const { error } = await runImport(profileFor({ url: `${looping.url}/0` }));

      assertFatal(error, 520, 'SOURCE_REQUEST_FAILED');
      assert.equal(error.message, `GET ${looping.url}/0 (redirected to ${looping.url}/10) failed: the server redirected more than 10 times; set source.url to the final address of the file`);
      // The first request and 10 redirects.
      assert.equal(looping.requests.length, 11);
    } finally {
      await looping.close();
    }
  });

  await t.test('gzip damage after a redirect names the target', async () => {
    const gzip = zlib.gzipSync(body);
    const server = await startServer((request, response) => {
      if (request.url === '/old.csv.gz') {
        response.writeHead(301, { Location: '/new.csv.gz' });
        response.end();
        return;
      }
      response.writeHead(200, { 'Content-Length': gzip.length - 8 });
      response.end(gzip.subarray(0, gzip.length - 8));
    });
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/old.csv.gz` }));

      assertFatal(error, 520, 'GZIP_INVALID');
      assert.equal(error.details.redirected_to, `${server.url}/new.csv.gz`);
    } finally {
      await server.close();
    }
  });

  await t.test('same-origin redirect with credentials is followed', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/old.csv') {
        response.writeHead(301, { Location: '/new.csv' });
        response.end();
      } else {
        serveBuffer(body)(request, response);
      }
    });
    try {
      const source = { url: `${server.url}/old.csv`, headers: { 'X-Api-Key': '{metadata.key}' } };
      const { items, error } = await runImport(profileFor(source), { metadata: { key: 'SECRET-KEY' } });

      assert.equal(error, null);
      assert.equal(items[0].tracking_info.tracking_number, 'A1');
      assert.deepEqual(server.requests.map((request) => [request.url, request.headers['x-api-key']]), [
        ['/old.csv', 'SECRET-KEY'],
        ['/new.csv', 'SECRET-KEY'],
      ]);
    } finally {
      await server.close();
    }
  });

  await t.test('cross-origin redirect without credentials is followed', async () => {
    const redirector = await startServer((request, response) => {
      response.writeHead(302, { Location: `${target.url}/file.csv` });
      response.end();
    });
    try {
      const { items, error } = await runImport(profileFor({ url: `${redirector.url}/file.csv` }));

      assert.equal(error, null);
      assert.equal(items[0].tracking_info.tracking_number, 'A1');
    } finally {
      await redirector.close();
    }
  });

  await t.test('cross-origin redirect sends no Referer', async () => {
    const redirector = await startServer((request, response) => {
      response.writeHead(302, { Location: `${target.url}/file.csv` });
      response.end();
    });
    try {
      const source = { url: `${redirector.url}/export?api_key={metadata.key}` };
      const { items, error } = await runImport(profileFor(source), { metadata: { key: 'SECRET-KEY' } });

      assert.equal(error, null);
      assert.equal(items[0].tracking_info.tracking_number, 'A1');
      assert.equal(redirector.requests[0].url, '/export?api_key=SECRET-KEY');
      const received = target.requests.at(-1);
      assert.equal(received.url, '/file.csv');
      assert.equal(received.headers.referer, undefined);
    } finally {
      await redirector.close();
    }
  });

  await t.test('dot segment from metadata is refused', async () => {
    const before = target.requests.length;
    const source = { url: `${target.url}/accounts/{metadata.account}/file.csv` };
    const { error } = await runImport(profileFor(source), { metadata: { account: '..' } });

    assertFatal(error, 400, 'METADATA_INVALID');
    assert.equal(error.message, 'source.url: metadata.account makes the URL path contain the segment "..", which would move the request to another path; check the connection\'s metadata');
    assert.equal(error.details.field, 'metadata.account');
    assert.equal(target.requests.length, before);
  });

  await t.test('503 keeps its Retry-After in details', async () => {
    const server = await startServer(serveBuffer('busy', { status: 503, headers: { 'Retry-After': '30' } }));
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/file.csv` }));

      assertFatal(error, 520, 'SOURCE_SERVER_ERROR');
      assert.equal(error.details.retry_after_seconds, 30);
      assert.equal(error.retryAfterSeconds, undefined);
    } finally {
      await server.close();
    }
  });

  await t.test('fractional Retry-After rounds up', async () => {
    const server = await startServer(serveBuffer('slow down', { status: 429, headers: { 'Retry-After': '1.5' } }));
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/file.csv` }));

      assertFatal(error, 429, 'SOURCE_RATE_LIMITED');
      assert.equal(error.retryAfterSeconds, 2);
    } finally {
      await server.close();
    }
  });

  await t.test('gzip content encoding is decoded', async () => {
    const server = await startServer(serveBuffer(zlib.gzipSync(body), { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      const profile = profileFor({ url: `${server.url}/file.csv` }, { compression: 'none' });
      const { items, error } = await runImport(profile);

      assert.equal(error, null);
      assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z');
    } finally {
      await server.close();
    }
  });

  await t.test('gzip file sent with gzip content encoding', async () => {
    const twice = zlib.gzipSync(zlib.gzipSync(body));
    const server = await startServer(serveBuffer(twice, { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      for (const compression of ['auto', 'gzip']) {
        const profile = profileFor({ url: `${server.url}/file.csv.gz` }, { compression });
        const { items, error } = await runImport(profile);

        assert.equal(error, null, compression);
        assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z', compression);
      }
    } finally {
      await server.close();
    }
  });

  await t.test('gzip file whose first transfer member holds one byte', async () => {
    // The transfer layer's first member decodes to the file's first byte alone, so the
    // first read of the file returns 1f without 8b.
    const file = zlib.gzipSync(body);
    const transfer = Buffer.concat([zlib.gzipSync(file.subarray(0, 1)), zlib.gzipSync(file.subarray(1))]);
    const server = await startServer(serveBuffer(transfer, { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      const profile = profileFor({ url: `${server.url}/file.csv.gz` });
      const { items, error } = await runImport(profile);

      assert.equal(error, null);
      assert.equal(items.length, 1);
      assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z');
    } finally {
      await server.close();
    }
  });

  await t.test('gzip compression met by content encoding', async () => {
    const server = await startServer(serveBuffer(zlib.gzipSync(body), { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      const profile = profileFor({ url: `${server.url}/file.csv` }, { compression: 'gzip' });
      const { items, error } = await runImport(profile);

      assert.equal(error, null);
      assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z');
    } finally {
      await server.close();
    }
  });

  await t.test('content encoding list and empty value', async () => {
    const cases = [
      { header: 'gzip, gzip', bytes: zlib.gzipSync(zlib.gzipSync(body)) },
      { header: '', bytes: Buffer.from(body) },
      { header: 'identity, gzip', bytes: zlib.gzipSync(body) },
      { header: 'X-GZIP', bytes: zlib.gzipSync(body) },
    ];
    for (const { header, bytes } of cases) {
      const server = await startServer(serveBuffer(bytes, { headers: { 'Content-Encoding': header } }));
      try {
        const profile = profileFor({ url: `${server.url}/file.csv` }, { compression: 'none' });
        const { items, error } = await runImport(profile);

        assert.equal(error, null, header);
        assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z', header);
      } finally {
        await server.close();
      }
    }
  });

  await t.test('content encoding on two field lines', async () => {
    const server = await startServer(serveBuffer(zlib.gzipSync(zlib.gzipSync(body)), { headers: { 'Content-Encoding': ['gzip', 'gzip'] } }));
    try {
      const profile = profileFor({ url: `${server.url}/file.csv` }, { compression: 'none' });
      const { items, error } = await runImport(profile);

      assert.equal(error, null);
      assert.equal(items[0].tracking_info.events[0].event_datetime, '2024-01-02T09:00:00Z');
    } finally {
      await server.close();
    }
  });

  await t.test('plain body sent as gzip blames the server', async () => {
    const server = await startServer(serveBuffer(body, { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      const { items, error } = await runImport(profileFor({ url: `${server.url}/file.csv` }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'GZIP_INVALID');
      assert.equal(error.message, `${server.url}/file.csv is not gzip: it starts with the bytes 54 4e 3b 54 instead of 1f 8b; the server's Content-Encoding header calls it gzip, which is wrong, so ask the carrier to fix that header`);
    } finally {
      await server.close();
    }
  });

  await t.test('still compressed file hints at compression', async () => {
    const server = await startServer(serveBuffer(zlib.gzipSync(zlib.gzipSync(body)), { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      const profile = profileFor({ url: `${server.url}/file.csv.gz` }, { compression: 'none' });
      const { error } = await runImport(profile);

      assertFatal(error, 400, 'COLUMN_NOT_FOUND');
      assert.match(error.message, /\. The file starts with the gzip magic bytes 1f 8b, so it is still compressed: set compression to "auto" or "gzip"$/);
    } finally {
      await server.close();
    }
  });

  await t.test('cut gzip content encoding is GZIP_INVALID', async () => {
    const gzip = zlib.gzipSync(body);
    const server = await startServer(serveBuffer(gzip.subarray(0, gzip.length - 8), { headers: { 'Content-Encoding': 'gzip' } }));
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/file.csv` }));

      assertFatal(error, 520, 'GZIP_INVALID');
      assert.ok(error.message.startsWith(`${server.url}/file.csv is not a complete gzip stream`), error.message);
    } finally {
      await server.close();
    }
  });

  await t.test('redirect to ftp is rejected', async () => {
    const server = await startServer((request, response) => {
      response.writeHead(302, { Location: 'ftp://127.0.0.1/file.csv' });
      response.end();
    });
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/file.csv` }));

      assertFatal(error, 520, 'SOURCE_REQUEST_FAILED');
      assert.match(error.message, /the server redirected to ftp:\/\/127\.0\.0\.1\/file\.csv, which is not an http or https address/);
      assert.match(error.message, /set source.url to the final address of the file$/);
    } finally {
      await server.close();
    }
  });

  await t.test('unknown content encoding is refused', async () => {
    const server = await startServer(serveBuffer(zlib.deflateSync(body), { headers: { 'Content-Encoding': 'deflate' } }));
    try {
      const { items, error } = await runImport(profileFor({ url: `${server.url}/file.csv` }));

      assert.deepEqual(items, []);
      assertFatal(error, 520, 'SOURCE_ENCODING_UNSUPPORTED');
      assert.equal(error.message, `GET ${server.url}/file.csv returned the body with Content-Encoding "deflate", and the coding "deflate" is not supported; only gzip and identity are, so ask the carrier to send the file uncompressed or gzip-compressed`);
    } finally {
      await server.close();
    }
  });

  await t.test('fragment and query are left out of messages', async () => {
    const server = await startServer(serveBuffer('gone', { status: 404 }));
    try {
      const { error } = await runImport(profileFor({ url: `${server.url}/file.csv?key=SECRET#part` }));

      assertFatal(error, 400, 'SOURCE_NOT_FOUND');
      assert.equal(error.details.source, `${server.url}/file.csv?…`);
      assert.ok(!error.message.includes('SECRET'));
      assert.ok(!error.message.includes('#part'));
    } finally {
      await server.close();
    }
  });
});
