'use strict';

// Bad records become `error_messages` items that name the file, line, field and value,
// and the import goes on. Inputs are the real DPD file with single lines damaged.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');

const profile = require('../examples/profiles/dpd-scaninfo.json');
const realFile = path.join(__dirname, 'fixtures', 'real', 'dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv');
const realLines = fs.readFileSync(realFile, 'utf8').split('\n');

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-bad-'));
test.after(() => fs.rmSync(directory, { recursive: true, force: true }));

// Writes the real file with `change(lines)` applied and returns its path.
function damaged(name, change) {
  const lines = [...realLines];
  change(lines);
  const file = path.join(directory, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

async function importFile(file, profileOverride = profile) {
  const items = [];
  let summary = null;
  const carrier = createCarrier(profileOverride);
  for await (const item of carrier.ImportTrackingEvents({ transaction_id: 'x' }, { source: file, onSummary: (s) => (summary = s) })) {
    assertValidItem(item);
    items.push(item);
  }
  return {
    errors: items.filter((item) => item.error_messages).map((item) => item.error_messages),
    shipments: items.filter((item) => item.tracking_info),
    summary,
  };
}

test('records joined by a bare CR get a hint', async () => {
  // Lines 3 and 4 of the LF file are joined by a CR alone, as a mixed export can do.
  const file = damaged('joined-by-cr.csv', (lines) => {
    lines.splice(2, 2, `${lines[2]}\r${lines[3]}`);
  });
  const { errors, summary } = await importFile(file);
  assert.equal(errors.length, 1);
  assert.equal(
    errors[0][0],
    `${file}:3: expected 31 fields, found 62; check the line for a missing or unquoted delimiter. The line contains a carriage return (CR) without a line feed, which does not end a line in this file: if it separates two records, use one kind of line break in the whole file. The record was skipped`,
  );
  assert.equal(summary.records, 25);
});

test('CR in a short record gets no hint', async () => {
  const file = damaged('short-with-cr.csv', (lines) => {
    lines[2] = `"A\rB";${lines[2].split(';').slice(1, 27).join(';')}`;
  });
  const { errors } = await importFile(file);
  assert.equal(errors.length, 1);
  assert.equal(errors[0][0], `${file}:3: expected 31 fields, found 27; check the line for a missing or unquoted delimiter. The record was skipped`);
});

test('wrong column count names the line', async () => {
  // Line 3 of the file (second data row) loses its last five fields.
  const file = damaged('short.csv', (lines) => {
    lines[2] = lines[2].split(';').slice(0, 27).join(';');
  });
  const { errors, shipments, summary } = await importFile(file);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].length, 1);
  assert.equal(errors[0][0], `${file}:3: expected 31 fields, found 27; check the line for a missing or unquoted delimiter. The record was skipped`);
  assert.equal(summary.records, 26);
  assert.equal(summary.errors, 1);
  assert.equal(summary.events, 25);
  assert.equal(shipments.length, 21);
});

test('missing tracking number names the column', async () => {
  const file = damaged('no-number.csv', (lines) => {
    lines[5] = lines[5].replace(/^\d+/, '');
  });
  const { errors, summary } = await importFile(file);
  assert.deepEqual(errors, [[`${file}:6: field tracking_number (column PARCELNO) is empty; the record was skipped`]]);
  assert.equal(summary.events, 25);
});

test('unparseable date names field, value and format', async () => {
  const file = damaged('bad-date.csv', (lines) => {
    lines[1] = lines[1].replace('20220429143447', '20220431143447');
  });
  const { errors, shipments } = await importFile(file);
  assert.equal(errors.length, 1);
  const message = errors[0][0];
  assert.ok(message.startsWith(`${file}:2: tracking number 01865046755363: invalid event_datetime "20220431143447" (column SCAN_DATE_TIME): expected format %Y%m%d%H%M%S (`), message);
  assert.ok(message.endsWith('fix the file or fields.event_datetime.format. The record was skipped'), message);
  const parcel = shipments.find((item) => item.tracking_info.tracking_number === '01865046755363');
  assert.deepEqual(parcel.tracking_info.events.map((event) => event.event_code), ['18']);
});

test('unterminated quote spoils one line only', async () => {
  const file = damaged('quote.csv', (lines) => {
    lines[3] = lines[3].replace(';WIZDIK;', ';"WIZDIK;');
  });
  const { errors, summary } = await importFile(file);
  assert.deepEqual(errors, [[
    `${file}:4: field 19 (counting from 1) opens a quote that is not closed on this line; close the quote, or set format.multiline_quotes if fields may contain line breaks. The record was skipped`,
  ]]);
  assert.equal(summary.events, 25);
  assert.equal(summary.records, 26);
});

test('truncated last line is reported as such', async () => {
  const file = damaged('cut.csv', (lines) => {
    const last = lines.length - 2;
    lines[last] = lines[last].slice(0, 60);
    lines.length = last + 1;
  });
  const { errors, summary } = await importFile(file);
  assert.equal(errors.length, 1);
  assert.equal(
    errors[0][0],
    `${file}:27: expected 31 fields, found 10; check the line for a missing or unquoted delimiter. The record was skipped (the last line has no line break, so the file may be cut short)`,
  );
  assert.equal(summary.events, 25);
});

test('quoted delimiter and escaped quote in a field', async () => {
  const file = damaged('quoted.csv', (lines) => {
    lines[3] = lines[3].replace(';WIZDIK;', ';"WIZ;DIK ""B""";');
  });
  const { errors, shipments } = await importFile(file);
  assert.deepEqual(errors, []);
  const parcel = shipments.find((item) => item.tracking_info.tracking_number === '01865046755364');
  assert.equal(parcel.tracking_info.events[0].signer, 'WIZ;DIK "B"');
});

test('unmapped status code gives UN and a warning', async () => {
  const file = damaged('code.csv', (lines) => {
    lines[1] = lines[1].replace(';13;', ';77;');
  });
  const { shipments } = await importFile(file);
  const item = shipments.find((entry) => entry.tracking_info.tracking_number === '01865046755363');
  assert.equal(item.tracking_info.events[0].status_code, 'UN');
  assert.deepEqual(item.warning_messages, [
    `${file}:2: carrier status code "77" is not in the profile's statuses table, so the event has status UN; add the code to statuses`,
  ]);
});

test('CRLF line endings and a UTF-8 BOM', async () => {
  const file = path.join(directory, 'crlf.csv');
  fs.writeFileSync(file, `\ufeff${realLines.join('\r\n')}`);
  const { errors, summary, shipments } = await importFile(file);
  assert.deepEqual(errors, []);
  assert.equal(summary.events, 26);
  assert.equal(shipments[0].tracking_info.events[0].signer, 'WIZDIK');
});

test('UTF-16 little endian with BOM', async () => {
  const file = path.join(directory, 'utf16.csv');
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(realLines.join('\n'), 'utf16le')]));
  const { errors, summary } = await importFile(file, { ...profile, encoding: 'utf-16' });
  assert.deepEqual(errors, []);
  assert.equal(summary.events, 26);
});

test('UTF-16 without BOM read as UTF-8 suggests utf-16', async () => {
  const file = path.join(directory, 'utf16-no-bom.csv');
  fs.writeFileSync(file, Buffer.from(realLines.join('\n'), 'utf16le'));
  await assert.rejects(importFile(file), (error) => {
    assert.equal(error.code, 'COLUMN_NOT_FOUND');
    assert.ok(
      error.message.endsWith('. The column names contain NUL characters, so the file is probably UTF-16 without a byte order mark: set encoding to utf-16le or utf-16be'),
      error.message,
    );
    return true;
  });
});

test('invalid UTF-16 warning has no Latin-1 hint', async () => {
  const file = path.join(directory, 'utf16-lone-surrogate.csv');
  const lines = [...realLines];
  lines[1] = lines[1].replace('WIZDIK', 'WIZ\ud800DIK');
  // Buffer.from writes a lone surrogate as UTF-16 code unit 0xD800, which no decoder accepts.
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines.join('\n'), 'utf16le')]));
  const { shipments } = await importFile(file, { ...profile, encoding: 'utf-16' });
  const warnings = shipments.flatMap((item) => item.warning_messages ?? []);
  assert.deepEqual(warnings, [
    `${file}:2: the record contains bytes that are not valid utf-16, which were replaced by U+FFFD; set encoding to the file's real encoding`,
  ]);
});

test('invalid bytes in a multiline record', async () => {
  const file = path.join(directory, 'multiline-invalid.csv');
  fs.writeFileSync(file, Buffer.concat([
    Buffer.from('TN;DT;CODE;TEXT\nA1;20240501120000;99;"first line\nsecond '),
    Buffer.from([0xff]),
    Buffer.from('"\n'),
  ]));
  const multiline = {
    source: { path: file },
    time_zone: 'UTC',
    format: { type: 'delimited', delimiter: ';', header: true, multiline_quotes: true },
    fields: {
      tracking_number: 'TN',
      event_datetime: { column: 'DT', format: '%Y%m%d%H%M%S' },
      event_code: 'CODE',
      description: 'TEXT',
    },
  };
  const { shipments } = await importFile(file, multiline);
  assert.deepEqual(shipments[0].warning_messages, [
    `${file}:2: carrier status code "99" is not in the profile's statuses table, so the event has status UN; add the code to statuses`,
    `${file}:2: the record contains bytes that are not valid utf-8, which were replaced by U+FFFD; set encoding to the file's real encoding (windows-1252 for Latin-1 files)`,
  ]);
});

test('a quote still open at the end of the file', async (t) => {
  const quoted = (file) => ({
    source: { path: file },
    time_zone: 'UTC',
    format: { type: 'delimited', delimiter: ';', header: true, multiline_quotes: true },
    fields: { tracking_number: 'TN', event_datetime: { column: 'DT', format: '%Y%m%d%H%M%S' }, description: 'TEXT' },
  });
  const cases = [
    ['with a final line break', 'TN;DT;TEXT\nA1;20240501120000;ok\nA2;20240501120000;"handed to\nneighbour\n', ''],
    ['cut short without one', 'TN;DT;TEXT\nA1;20240501120000;ok\nA2;20240501120000;"handed to\nneighb', ' (the last line has no line break, so the file may be cut short)'],
  ];
  for (const [name, text, note] of cases) {
    await t.test(name, async () => {
      const file = path.join(directory, `open-quote-${name.replaceAll(' ', '-')}.csv`);
      fs.writeFileSync(file, text);
      const { errors, shipments, summary } = await importFile(file, quoted(file));

      assert.equal(shipments.length, 1);
      assert.deepEqual(errors, [[
        `${file}:3: a quoted field opened on this line is never closed before the end of the file; close the quote. The record and the lines after it were skipped${note}`,
      ]]);
      assert.equal(summary.records, 2);
    });
  }
});

test('replace update method is passed through', async () => {
  const { shipments } = await importFile(realFile, { ...profile, update_method: 'replace' });
  assert.ok(shipments.every((item) => item.update_method === 'replace'));
});

test('per-record time zone column', async () => {
  const zoned = {
    ...profile,
    fields: { ...profile.fields, time_zone: 'DELISUSR' },
  };
  const file = damaged('zones.csv', (lines) => {
    lines[1] = lines[1].replace(/2406033416;$/, 'America/New_York;');
    lines[2] = lines[2].replace(/2406033416;$/, '+05:30;');
    lines[3] = lines[3].replace(/2406033416;$/, 'Mars/Olympus;');
    for (let i = 4; i < lines.length; i++) lines[i] = lines[i].replace(/2406033416;$/, ';');
  });
  const { errors, shipments } = await importFile(file, zoned);
  const first = shipments.find((item) => item.tracking_info.tracking_number === '01865046755363').tracking_info;
  // 14:44:00 at +05:30 comes before 14:34:47 in New York (EDT, -04:00).
  assert.equal(first.events[0].event_datetime, '2022-04-29T09:14:00Z');
  assert.equal(first.events[0].event_datetime_local, '2022-04-29T14:44:00+05:30');
  assert.equal(first.events[1].event_datetime, '2022-04-29T18:34:47Z');
  assert.equal(first.events[1].event_datetime_local, '2022-04-29T14:34:47-04:00');
  assert.equal(errors.length, 1);
  assert.match(errors[0][0], /:4: tracking number 01865046755364: invalid time_zone \(column DELISUSR\): `Mars\/Olympus` is neither an IANA time zone name nor a UTC offset/);
});
