'use strict';

// The bundled profiles on real carrier files (see fixtures/real/SOURCES.md). Expected
// values were worked out from the files with an independent script (Python zoneinfo for
// the UTC conversions), not taken from this library's output.

const assert = require('node:assert/strict');
const path = require('node:path');
const test = require('node:test');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');

const root = path.join(__dirname, '..');
const fixture = (name) => path.join(__dirname, 'fixtures', 'real', name);

async function importFile(profileName, fileName) {
  const profile = require(path.join(root, 'examples', 'profiles', `${profileName}.json`));
  const carrier = createCarrier(profile);
  const items = [];
  let summary = null;
  const request = { transaction_id: '6c5fa8f1-3c2e-4f43-9d0e-2f8f3c1d9a10', metadata: {} };
  for await (const item of carrier.ImportTrackingEvents(request, {
    source: fixture(fileName),
    onSummary: (value) => {
      summary = value;
    },
  })) {
    assertValidItem(item);
    items.push(item);
  }
  const byNumber = new Map(items.filter((item) => item.tracking_info).map((item) => [item.tracking_info.tracking_number, item]));
  return { items, summary, byNumber };
}

test('DPD SCANINFO: counts and a delivered parcel', async () => {
  const { items, summary, byNumber } = await importFile('dpd-scaninfo', 'dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv');
  assert.equal(items.length, 21);
  assert.equal(summary.records, 26);
  assert.equal(summary.events, 26);
  assert.equal(summary.errors, 0);
  assert.equal(summary.warnings, 0);

  const parcel = byNumber.get('01865046755384').tracking_info;
  assert.deepEqual(
    parcel.events.map((event) => [event.event_datetime, event.event_code, event.status_code]),
    [
      ['2022-04-28T20:22:00Z', '20', 'AC'],
      ['2022-04-29T12:07:39Z', '13', 'DE'],
      ['2022-04-29T12:49:00Z', '18', 'UN'],
    ],
  );
  assert.equal(parcel.events[1].event_datetime_local, '2022-04-29T14:07:39+02:00');
  assert.equal(parcel.events[1].signer, 'FOJNLHOZLUF');
  // CONSIGNEE_ZIP (5771) and RCOUNTRY (AT) are the receiver's address, not the scan's place.
  assert.equal(parcel.events[1].postal_code, null);
  assert.equal(parcel.events[1].country, null);
  // The informational scan 18 after the delivery leaves the parcel delivered.
  assert.equal(parcel.standardized_status_code, 'DE');
  assert.equal(parcel.carrier_status_code, '13');
  assert.equal(parcel.carrier_status_description, 'Delivered');
  assert.equal(parcel.actual_delivery_datetime, '2022-04-29T12:07:39Z');
  assert.equal(parcel.carrier_name, 'DPD');
  assert.deepEqual(parcel.service, { code: '101', name: null });

  const pickup = byNumber.get('01865046755391').tracking_info;
  assert.equal(pickup.standardized_status_code, 'AC');
  assert.equal(pickup.events[0].event_datetime, '2022-04-29T12:02:12Z');
  assert.equal(pickup.actual_delivery_datetime, null);
});

test('DPD SCANINFO: items keep first-appearance order', async () => {
  const { items } = await importFile('dpd-scaninfo', 'dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv');
  const numbers = items.map((item) => item.tracking_info.tracking_number);
  assert.equal(numbers[0], '01865046755363');
  assert.equal(numbers[20], '01865046755395');
  assert.equal(new Set(numbers).size, 21);
});

test('DHL Paket report: Latin-1 header and duplicate rows', async () => {
  const { items, summary, byNumber } = await importFile('dhl-paket-report', 'dhl-de_repsrd-standardbericht_latin1-semicolon-header.csv');
  assert.equal(items.length, 91);
  assert.equal(summary.records, 181);
  assert.equal(summary.events, 100);
  assert.equal(summary.duplicates, 81);

  const parcel = byNumber.get('00340036920033305441').tracking_info;
  assert.deepEqual(
    parcel.events.map((event) => [event.event_datetime, event.event_code, event.status_code]),
    [
      ['2020-11-03T04:00:44Z', 'ULFMV', 'IT'],
      ['2020-11-03T04:02:47Z', 'SRTED', 'IT'],
      ['2020-11-03T04:05:14Z', 'ULFMV', 'IT'],
    ],
  );
  assert.equal(parcel.events[0].event_datetime_local, '2020-11-03T05:00:44+01:00');
  assert.equal(parcel.carrier_status_description, 'Unloaded from a vehicle');

  // "Empfängername SOLL" is found only if the header was decoded as Latin-1.
  const withUmlaut = byNumber.get('00340036920033290389').tracking_info;
  assert.equal(withUmlaut.events[0].company, 'LL-Vikoz Inh. Tevb Rödhaz LIPU Ditj');
  assert.equal(withUmlaut.events.length, 1);
  assert.equal(withUmlaut.shipped_datetime, '2020-11-01T23:00:00Z');
});

test('GLS pakstat: scattered parcel, joined date and time', async () => {
  const { items, summary, byNumber } = await importFile('gls-pakstat', 'gls-at_pakstat_pipe-trailing-sep_mixed-codes.txt');
  assert.equal(items.length, 796);
  assert.equal(summary.records, 839);
  assert.equal(summary.events, 828);
  assert.equal(summary.errors, 0);

  // Four rows in descending time order; rows with equal times keep their file order.
  const parcel = byNumber.get('85590439196');
  assert.deepEqual(
    parcel.tracking_info.events.map((event) => [event.event_datetime, event.event_code, event.status_code]),
    [
      ['2020-10-31T12:53:00Z', '2001', 'UN'],
      ['2020-10-31T13:52:00Z', '1023', 'UN'],
      ['2020-11-02T07:22:00Z', '1001', 'UN'],
      ['2020-11-02T07:22:00Z', '2010', 'IT'],
    ],
  );
  assert.equal(parcel.tracking_info.standardized_status_code, 'IT');
  assert.equal(parcel.tracking_info.carrier_status_code, '2010');
  assert.equal(parcel.tracking_info.events[3].event_datetime_local, '2020-11-02T08:22:00+01:00');
  assert.equal(parcel.warning_messages.length, 3);
  assert.match(parcel.warning_messages[0], /gls-at_pakstat_pipe-trailing-sep_mixed-codes\.txt:\d+: carrier status code "2001" is not in the profile's statuses table/);

  // The same scan listed twice is yielded once.
  const repeated = byNumber.get('85590441046').tracking_info;
  assert.deepEqual(
    repeated.events.map((event) => [event.event_datetime, event.event_code]),
    [
      ['2020-11-03T07:57:00Z', '2010'],
      ['2020-11-03T07:59:00Z', '2404'],
    ],
  );

  // A one-digit status code is looked up as written.
  const depotScan = byNumber.get('85455391703').tracking_info;
  assert.equal(depotScan.events[0].event_code, '5');
  assert.equal(depotScan.events[0].status_code, 'IT');
});

test('GLS Italy ESITI: fixed-width outcomes', async () => {
  const { items, summary, byNumber } = await importFile('gls-it-esiti', 'gls-it_esiti_fixed-width-564.txt');
  assert.equal(items.length, 70);
  assert.equal(summary.events, 70);
  assert.equal(summary.errors, 0);

  const delivered = byNumber.get('01000140204').tracking_info;
  assert.equal(delivered.standardized_status_code, 'DE');
  assert.equal(delivered.carrier_status_code, 'S00');
  assert.equal(delivered.actual_delivery_datetime, '2021-05-12T07:57:00Z');
  assert.equal(delivered.events[0].signer, 'PEHKUWA  WOTOEPI');
  assert.equal(delivered.events[0].city, 'tribiano');
  assert.equal(delivered.events[0].state, 'MI');
  assert.equal(delivered.events[0].country, 'IT');
  assert.equal(delivered.shipped_datetime, '2021-05-10T22:00:00Z');

  const attempted = byNumber.get('01000140218').tracking_info;
  assert.equal(attempted.standardized_status_code, 'AT');
  assert.equal(attempted.carrier_status_code, 'N25');
  assert.equal(attempted.carrier_status_description, 'MANCANZA 1 AVVISO');
  assert.equal(attempted.events[0].event_datetime, '2021-05-12T08:54:00Z');

  const wrongAddress = byNumber.get('01000140300').tracking_info;
  assert.equal(wrongAddress.standardized_status_code, 'EX');
  assert.equal(wrongAddress.shipping_problem, true);
  assert.equal(wrongAddress.shipping_problem_code, 'N68');
  assert.equal(wrongAddress.shipping_problem_description, 'SCONOSCIUTO / INDIRIZZO ERRATO');
  // No time in the record: the outcome date at midnight in Rome.
  assert.equal(wrongAddress.events[0].event_datetime, '2021-05-11T22:00:00Z');

  const pending = byNumber.get('01000140112').tracking_info;
  assert.equal(pending.carrier_status_code, '00');
  assert.equal(pending.standardized_status_code, 'IT');

  // The reference is kept as written, with or without its leading zero.
  assert.ok(byNumber.has('1000140162'));
});
