'use strict';

// The complete example in docs/profile.md, run as written: its profile, its file (sent
// gzipped in windows-1252 from a loopback server) and the four items the text promises.
// The profile's host is replaced by the server's, so placeholders are filled as documented.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');
const zlib = require('node:zlib');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');
const { startServer, serveBuffer } = require('./helpers/http.js');

const DOCS = fs.readFileSync(path.join(__dirname, '..', 'docs', 'profile.md'), 'utf8');
const EXAMPLE = DOCS.slice(DOCS.indexOf('## Complete example'));
const PROFILE_JSON = /```json\n([\s\S]*?)\n```/.exec(EXAMPLE)[1];
const FILE_TEXT = `${/```text\n([\s\S]*?)\n```/.exec(EXAMPLE)[1]}\n`;
const METADATA = { account_number: 'A 17', export_date: '2024-05-13', api_key: 'k1' };

test('complete example imports as the docs describe', async () => {
  const body = zlib.gzipSync(Buffer.from(FILE_TEXT, 'latin1'));
  const server = await startServer(serveBuffer(body));
  try {
    const profile = JSON.parse(PROFILE_JSON);
    profile.source.url = profile.source.url.replace('https://files.example-parcel.test', server.url);
    const items = [];
    for await (const item of createCarrier(profile).ImportTrackingEvents({ metadata: METADATA })) {
      assertValidItem(item);
      items.push(item);
    }

    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].url, '/exports/A%2017/scans.csv.gz?date=2024-05-13');
    assert.equal(server.requests[0].headers['x-api-key'], 'k1');
    assert.equal(items.length, 4);

    // 1. The record on line 9 has no tracking number.
    assert.equal(items[0].error_messages.length, 1);
    assert.match(items[0].error_messages[0], /:9: field tracking_number \(column PARCEL_NO\) is empty/);

    // 2. Three events; line 6 repeats line 5 and is dropped.
    const delivered = items[1].tracking_info;
    assert.equal(delivered.tracking_number, '00340434161234567890');
    assert.deepEqual(
      delivered.events.map((event) => [event.event_datetime, event.status_code, event.city]),
      [
        ['2024-05-12T06:15:00Z', 'AC', 'Köln'],
        ['2024-05-12T22:00:00Z', 'IT', 'Wien'],
        ['2024-05-13T12:02:11Z', 'DE', 'Wien'],
      ],
    );
    assert.deepEqual(delivered.events[0].geo, { lat: 50.94, long: 6.96 });
    assert.equal(delivered.standardized_status_code, 'DE');
    assert.equal(delivered.weight, 2.5);
    assert.equal(delivered.package_count, 1);
    assert.equal(delivered.shipped_datetime, '2024-05-11T22:00:00Z');

    // 3. A scan with its own time zone, matched by the prefix entry 2*.
    const exception = items[2].tracking_info;
    assert.equal(exception.tracking_number, '00340434169999999999');
    assert.equal(exception.events.length, 1);
    assert.equal(exception.events[0].event_datetime, '2024-05-13T13:00:00Z');
    assert.equal(exception.events[0].event_datetime_local, '2024-05-13T09:00:00-04:00');
    assert.equal(exception.standardized_status_code, 'EX');
    assert.equal(exception.shipping_problem, true);
    assert.equal(exception.shipping_problem_code, '27');

    // 4. An unmapped code gives UN and a warning that names it.
    const unknown = items[3];
    assert.equal(unknown.tracking_info.tracking_number, '00340434168888888888');
    assert.equal(unknown.tracking_info.standardized_status_code, 'UN');
    assert.equal(unknown.warning_messages.length, 1);
    assert.match(unknown.warning_messages[0], /:8: carrier status code "55" is not in the profile's statuses table/);
  } finally {
    await server.close();
  }
});
