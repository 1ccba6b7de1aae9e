'use strict';

// The contract of the async generator that ImportTrackingEvents returns. It behaves like
// any async generator. Every way of leaving it early (break, return(), throw(), an
// AbortSignal, the end of the process) stops the Rust producer and closes the HTTP
// connection, which the loopback server observes as its socket closing. Batching must not
// change which items arrive or their order.
//
// Expected UTC times were converted by hand: Europe/Berlin is UTC+2 in April 2022 (CEST)
// and UTC+1 in January 2022 (CET).

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { getEventListeners } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const { createCarrier } = require('..');
const { assertValidItem } = require('./helpers/spec.js');
const { startServer, serveBuffer, stallAfter, within, waitUntil } = require('./helpers/http.js');

const PARCEL_A = '00340434161094042557';
const PARCEL_B = '00340434161094042564';
const PARCEL_C = '00340434161094042571';

const HEADER = 'TN;TS;CODE\n';
const ROWS_A = `${PARCEL_A};20220429143447;05\n${PARCEL_A};20220430101500;13\n`;
const ROW_B = `${PARCEL_B};20220115093000;10\n`;
const ROW_C = `${PARCEL_C};20220429160000;05\n`;

// Safety bound for the server to see a socket close. A passing run takes milliseconds.
const CLOSE_LIMIT_MS = 5000;

const EXPECTED_A = {
  tracking_info: {
    tracking_number: PARCEL_A,
    standardized_status_code: 'DE',
    carrier_status_code: '13',
    carrier_status_description: null,
    shipped_datetime: null,
    estimated_delivery_datetime: null,
    actual_delivery_datetime: '2022-04-30T08:15:00Z',
    shipping_problem: false,
    events: [
      event('2022-04-29T12:34:47Z', '2022-04-29T14:34:47+02:00', '05', 'AC'),
      event('2022-04-30T08:15:00Z', '2022-04-30T10:15:00+02:00', '13', 'DE'),
    ],
  },
  update_method: 'append',
};

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

// Builds a `;`-delimited profile with a header row. `max_open_shipments: 1` yields each
// shipment as soon as the next tracking number starts, so that with batchSize 1 the first
// item reaches JavaScript while the server has not sent the rest of the body.
function profileFor(source, { maxOpenShipments = 1 } = {}) {
  return {
    name: 'generator test carrier',
    source,
    format: { type: 'delimited', delimiter: ';', header: true },
    time_zone: 'Europe/Berlin',
    fields: {
      tracking_number: 'TN',
      event_datetime: { column: 'TS', format: '%Y%m%d%H%M%S' },
      event_code: 'CODE',
    },
    statuses: { '05': 'AC', '10': 'IT', '13': 'DE' },
    grouping: { max_open_shipments: maxOpenShipments },
  };
}

// Starts a server that sends both rows of parcel A and one row of parcel B, then stalls
// forever. Parcel B stays in the grouping window because more of its rows could follow.
async function startStalledServer() {
  return startServer(stallAfter(`${HEADER}${ROWS_A}${ROW_B}`));
}

function startImport(server, options = {}) {
  const carrier = createCarrier(profileFor({ url: `${server.url}/scan.csv`, read_timeout_seconds: 60 }));
  return carrier.ImportTrackingEvents({}, { batchSize: 1, ...options });
}

async function assertSocketCloses(server) {
  assert.equal(server.connections.length, 1);
  await within(server.connections[0].closed, CLOSE_LIMIT_MS, 'the server socket closing');
}

test.describe('async generator protocol', () => {
  test('import is an AsyncGenerator', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const generator = startImport(server);
      const asyncGeneratorPrototype = Object.getPrototypeOf(async function* () {}).prototype;

      assert.equal(Object.prototype.toString.call(generator), '[object AsyncGenerator]');
      assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(generator)), asyncGeneratorPrototype);
      assert.equal(generator[Symbol.asyncIterator](), generator);
      assert.equal(typeof generator.next, 'function');
      assert.equal(typeof generator.return, 'function');
      assert.equal(typeof generator.throw, 'function');

      const first = await generator.next();
      assertValidItem(first.value);
      assert.deepEqual(first, { value: EXPECTED_A, done: false });
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
    } finally {
      await server.close();
    }
  });

  test('return() before next() sends no request', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const carrier = createCarrier(profileFor({ url: `${server.url}/{metadata.file}` }));
      const unused = carrier.ImportTrackingEvents({ metadata: { file: 'unused.csv' } });
      assert.deepEqual(await unused.return('stopped'), { value: 'stopped', done: true });
      assert.deepEqual(await unused.next(), { value: undefined, done: true });

      // A second import proves the server is reachable, and only its request may arrive.
      const items = [];
      for await (const item of carrier.ImportTrackingEvents({ metadata: { file: 'used.csv' } })) {
        assertValidItem(item);
        items.push(item);
      }
      assert.deepEqual(items, [EXPECTED_A]);
      assert.deepEqual(
        server.requests.map((request) => request.url),
        ['/used.csv'],
      );
    } finally {
      await server.close();
    }
  });
});

test.describe('leaving early closes the connection', () => {
  test('break after the first item', async () => {
    const server = await startStalledServer();
    try {
      const items = [];
      for await (const item of startImport(server)) {
        assertValidItem(item);
        items.push(item);
        break;
      }

      assert.deepEqual(items, [EXPECTED_A]);
      await assertSocketCloses(server);
    } finally {
      await server.close();
    }
  });

  test('break while the producer waits on backpressure', async () => {
    // 2000 parcels fill the read-ahead buffer many times over, so when the loop breaks the
    // producer is blocked sending a batch, not reading the socket.
    const rows = [];
    for (let index = 0; index < 2000; index++) {
      rows.push(`TEST${String(index).padStart(10, '0')};20220429143447;05\n`);
    }
    const server = await startServer(stallAfter(`${HEADER}${rows.join('')}`));
    try {
      const generator = startImport(server);
      const first = await generator.next();
      assertValidItem(first.value);
      assert.equal(first.value.tracking_info.tracking_number, 'TEST0000000000');

      await generator.return(undefined);
      await assertSocketCloses(server);
    } finally {
      await server.close();
    }
  });

  test('return() after the first item', async () => {
    const server = await startStalledServer();
    try {
      const generator = startImport(server);
      const first = await generator.next();
      assertValidItem(first.value);
      assert.deepEqual(first.value, EXPECTED_A);

      assert.deepEqual(await generator.return('stopped'), { value: 'stopped', done: true });
      await assertSocketCloses(server);
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
    } finally {
      await server.close();
    }
  });

  test('throw() after the first item', async () => {
    const server = await startStalledServer();
    try {
      const generator = startImport(server);
      const first = await generator.next();
      assertValidItem(first.value);
      assert.deepEqual(first.value, EXPECTED_A);

      const reason = new Error('consumer failed');
      await assert.rejects(generator.throw(reason), (error) => error === reason);
      await assertSocketCloses(server);
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
    } finally {
      await server.close();
    }
  });
});

test.describe('AbortSignal', () => {
  test('abort while awaiting a stalled server', async () => {
    // Only the header row arrives, so the first next() waits for the server.
    const server = await startServer(stallAfter(HEADER));
    try {
      const controller = new AbortController();
      const generator = startImport(server, { signal: controller.signal });
      const pending = generator.next();
      await waitUntil(() => server.requests.length === 1, 'the import request reaching the server');

      const reason = new Error('import cancelled by the host');
      controller.abort(reason);
      await assert.rejects(
        within(pending, CLOSE_LIMIT_MS, 'the pending next() settling'),
        (error) => error === reason,
      );
      await assertSocketCloses(server);
      assert.deepEqual(await generator.next(), { value: undefined, done: true });
    } finally {
      await server.close();
    }
  });

  test('already-aborted signal rejects at once', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}`));
    try {
      const carrier = createCarrier(profileFor({ url: `${server.url}/{metadata.file}` }));
      const reason = new Error('aborted before the import started');
      const aborted = carrier.ImportTrackingEvents(
        { metadata: { file: 'aborted.csv' } },
        { signal: AbortSignal.abort(reason) },
      );
      await assert.rejects(aborted.next(), (error) => error === reason);
      assert.deepEqual(await aborted.next(), { value: undefined, done: true });

      // A second import proves the server is reachable, and only its request may arrive.
      const items = [];
      for await (const item of carrier.ImportTrackingEvents({ metadata: { file: 'used.csv' } })) {
        assertValidItem(item);
        items.push(item);
      }
      assert.deepEqual(items, [EXPECTED_A]);
      assert.deepEqual(
        server.requests.map((request) => request.url),
        ['/used.csv'],
      );
    } finally {
      await server.close();
    }
  });

  test('abort() without a reason rejects with AbortError', async () => {
    const server = await startServer(stallAfter(HEADER));
    try {
      const controller = new AbortController();
      const generator = startImport(server, { signal: controller.signal });
      const pending = generator.next();
      await waitUntil(() => server.requests.length === 1, 'the import request reaching the server');

      controller.abort();
      await assert.rejects(within(pending, CLOSE_LIMIT_MS, 'the pending next() settling'), (error) => {
        assert.equal(error.name, 'AbortError');
        assert.equal(error, controller.signal.reason);
        return true;
      });
      await assertSocketCloses(server);
    } finally {
      await server.close();
    }
  });

  test('abort between items closes the connection', async () => {
    const server = await startStalledServer();
    try {
      const controller = new AbortController();
      const generator = startImport(server, { signal: controller.signal });
      const first = await generator.next();
      assertValidItem(first.value);
      assert.deepEqual(first.value, EXPECTED_A);

      controller.abort(new Error('import cancelled by the host'));
      await assertSocketCloses(server);
    } finally {
      await server.close();
    }
  });

  test('finished import removes its abort listener', async () => {
    const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}${ROW_B}`));
    try {
      const controller = new AbortController();
      const generator = startImport(server, { signal: controller.signal });
      const first = await generator.next();
      assertValidItem(first.value);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 1);

      const rest = [];
      for await (const item of generator) {
        assertValidItem(item);
        rest.push(item.tracking_info.tracking_number);
      }
      assert.deepEqual(rest, [PARCEL_B]);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    } finally {
      await server.close();
    }
  });

  test(
    'abort between items rejects the next call',
    async () => {
      const server = await startServer(serveBuffer(`${HEADER}${ROWS_A}${ROW_B}${ROW_C}`));
      try {
        const controller = new AbortController();
        const carrier = createCarrier(profileFor({ url: `${server.url}/scan.csv` }));
        const generator = carrier.ImportTrackingEvents({}, { signal: controller.signal, batchSize: 10 });
        const first = await generator.next();
        assertValidItem(first.value);
        assert.deepEqual(first.value, EXPECTED_A);

        const reason = new Error('import cancelled by the host');
        controller.abort(reason);
        await assert.rejects(generator.next(), (error) => error === reason);
      } finally {
        await server.close();
      }
    },
  );
});

test('two imports run side by side', async () => {
  const firstServer = await startServer(serveBuffer(`${HEADER}${ROWS_A}${ROW_B}`));
  const secondServer = await startServer(serveBuffer(`${HEADER}${ROW_C}${ROW_B}`));
  try {
    // One carrier, two imports whose next() calls alternate.
    const carrier = createCarrier(profileFor({ url: `${firstServer.url}/scan.csv` }));
    const firstImport = carrier.ImportTrackingEvents({}, { batchSize: 1 });
    const secondImport = carrier.ImportTrackingEvents({}, { batchSize: 1, source: `${secondServer.url}/scan.csv` });
    const numbers = { first: [], second: [] };
    let firstDone = false;
    let secondDone = false;
    while (!firstDone || !secondDone) {
      if (!firstDone) {
        const result = await firstImport.next();
        firstDone = result.done;
        if (!firstDone) {
          assertValidItem(result.value);
          numbers.first.push(result.value.tracking_info.tracking_number);
        }
      }
      if (!secondDone) {
        const result = await secondImport.next();
        secondDone = result.done;
        if (!secondDone) {
          assertValidItem(result.value);
          numbers.second.push(result.value.tracking_info.tracking_number);
        }
      }
    }

    assert.deepEqual(numbers.first, [PARCEL_A, PARCEL_B]);
    assert.deepEqual(numbers.second, [PARCEL_C, PARCEL_B]);
    assert.deepEqual(
      firstServer.requests.map((request) => request.url),
      ['/scan.csv'],
    );
    assert.deepEqual(
      secondServer.requests.map((request) => request.url),
      ['/scan.csv'],
    );
  } finally {
    await firstServer.close();
    await secondServer.close();
  }
});

// Open imports that are not being read hold no thread. tokio's pool of blocking threads
// has 512 threads, so with one thread per import, the 513th import would never start.
test('600 imports open at once', async () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-open-'));
  try {
    const file = path.join(directory, 'scan.csv');
    // With one shipment per batch, the producer of each import fills its read-ahead and
    // then waits for the consumer.
    const rows = [];
    for (let index = 0; index < 50; index++) rows.push(`P${index};20220115093000;10\n`);
    fs.writeFileSync(file, `${HEADER}${ROWS_A}${rows.join('')}`);
    const carrier = createCarrier(profileFor({ path: file }));
    const generators = [];
    for (let index = 0; index < 600; index++) {
      const generator = carrier.ImportTrackingEvents({}, { batchSize: 1 });
      generators.push(generator);
      const first = await within(generator.next(), 10000, `the first item of import ${index + 1}`);
      assert.equal(first.value.tracking_info.tracking_number, PARCEL_A);
    }
    for (const generator of generators) {
      assert.deepEqual(await generator.return(), { value: undefined, done: true });
    }
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
});

test('garbage-collected generator closes the connection', async () => {
  const server = await startStalledServer();
  // The child reads one item, drops the generator without return() and runs the garbage
  // collector. Its timer keeps it alive, so only the collected import can close the socket.
  const script = `
    const { createCarrier } = require(process.argv[1]);
    const profile = JSON.parse(process.argv[2]);
    (async () => {
      let generator = createCarrier(profile).ImportTrackingEvents({}, { batchSize: 1 });
      const first = await generator.next();
      console.log(first.value.tracking_info.tracking_number);
      generator = null;
      for (let round = 0; round < 20; round++) {
        global.gc();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      setTimeout(() => {}, 60000);
    })();
  `;
  const profile = profileFor({ url: `${server.url}/scan.csv`, read_timeout_seconds: 600 });
  const indexPath = path.join(__dirname, '..', 'index.js');
  const child = spawn(process.execPath, ['--expose-gc', '-e', script, indexPath, JSON.stringify(profile)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  try {
    await waitUntil(() => stdout.includes('\n'), 'the first item in the child');
    assert.equal(stdout, `${PARCEL_A}\n`);
    await assertSocketCloses(server);
    assert.equal(child.exitCode, null, 'the child is still running');
  } finally {
    child.kill('SIGKILL');
    await server.close();
  }
});

test('child process exits after break', async () => {
  const server = await startStalledServer();
  // The child imports from the stalled server, prints the first tracking number and
  // breaks. Nothing else keeps its event loop alive, so it must exit on its own.
  const script = `
    const { createCarrier } = require(process.argv[1]);
    const profile = JSON.parse(process.argv[2]);
    (async () => {
      for await (const item of createCarrier(profile).ImportTrackingEvents({}, { batchSize: 1 })) {
        console.log(item.tracking_info.tracking_number);
        break;
      }
    })();
  `;
  const profile = profileFor({ url: `${server.url}/scan.csv`, read_timeout_seconds: 600 });
  const indexPath = path.join(__dirname, '..', 'index.js');
  const child = spawn(process.execPath, ['-e', script, indexPath, JSON.stringify(profile)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });

  // The kill timer is a safety bound: a child that hangs is killed and the test fails.
  let killed = false;
  const killTimer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, 10000);
  try {
    const [code, signal] = await new Promise((resolve) => child.on('exit', (...result) => resolve(result)));

    assert.equal(killed, false, 'the child did not exit within 10 s after breaking out of the import');
    assert.equal(stderr, '');
    assert.equal(stdout, `${PARCEL_A}\n`);
    assert.equal(signal, null);
    assert.equal(code, 0);
    await assertSocketCloses(server);
  } finally {
    clearTimeout(killTimer);
    child.kill('SIGKILL');
    await server.close();
  }
});

test.describe('batching', () => {
  let directory;
  test.before(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-generator-'));
  });
  test.after(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  // Ten parcels. Even ones have an AC scan on 29 April 2022 and a DE scan the next
  // morning, and odd ones have one IT scan on 15 January 2022.
  function tenParcels() {
    const rows = [];
    const expected = [];
    for (let index = 0; index < 10; index++) {
      const trackingNumber = `JJD0002249${String(index).padStart(8, '0')}`;
      const minute = String(10 + index);
      if (index % 2 === 0) {
        rows.push(`${trackingNumber};202204291${index}${minute}00;05`);
        rows.push(`${trackingNumber};20220430080${index}00;13`);
        expected.push({
          trackingNumber,
          events: [
            [`2022-04-29T${String(8 + index).padStart(2, '0')}:${minute}:00Z`, `2022-04-29T1${index}:${minute}:00+02:00`, '05', 'AC'],
            [`2022-04-30T06:0${index}:00Z`, `2022-04-30T08:0${index}:00+02:00`, '13', 'DE'],
          ],
        });
      } else {
        rows.push(`${trackingNumber};20220115093${index}00;10`);
        expected.push({
          trackingNumber,
          events: [[`2022-01-15T08:3${index}:00Z`, `2022-01-15T09:3${index}:00+01:00`, '10', 'IT']],
        });
      }
    }
    return { text: `${HEADER}${rows.join('\n')}\n`, expected };
  }

  async function importFile(file, batchSize) {
    const carrier = createCarrier(profileFor({ path: file }, { maxOpenShipments: 10000 }));
    const items = [];
    let summary = null;
    const onSummary = (value) => {
      summary = value;
    };
    for await (const item of carrier.ImportTrackingEvents({}, { batchSize, onSummary })) {
      assertValidItem(item);
      items.push(item);
    }
    return { items, summary };
  }

  test('batchSize 2 keeps every item in order', async () => {
    const { text, expected } = tenParcels();
    const file = path.join(directory, 'ten-parcels.csv');
    fs.writeFileSync(file, text);

    const { items, summary } = await importFile(file, 2);

    assert.equal(items.length, 10);
    assert.deepEqual(
      items.map((item) => item.tracking_info.tracking_number),
      expected.map((parcel) => parcel.trackingNumber),
    );
    for (let index = 0; index < 10; index++) {
      const events = items[index].tracking_info.events.map((scan) => [
        scan.event_datetime,
        scan.event_datetime_local,
        scan.event_code,
        scan.status_code,
      ]);
      assert.deepEqual(events, expected[index].events, `events of ${expected[index].trackingNumber}`);
    }
    assert.equal(summary.shipments, 10);
    assert.equal(summary.records, 15);
    assert.equal(summary.events, 15);
  });

  test('batch size does not change the items', async () => {
    const { text } = tenParcels();
    const file = path.join(directory, 'ten-parcels-sizes.csv');
    fs.writeFileSync(file, text);

    const reference = await importFile(file, 1);
    for (const batchSize of [2, 3, 10, 11, undefined]) {
      const { items, summary } = await importFile(file, batchSize);
      assert.deepEqual(items, reference.items, `batchSize ${batchSize}`);
      assert.deepEqual(summary, reference.summary, `summary with batchSize ${batchSize}`);
    }
  });

  test('5000 parcels all arrive and match onSummary', async () => {
    // Parcel i has two scans: AC at 06:00:00 local on 10 January 2022 plus 7 s per parcel,
    // and DE one day and three hours later. January in Berlin is UTC+1.
    const count = 5000;
    const start = Date.UTC(2022, 0, 10, 6, 0, 0);
    const later = (27 * 3600) * 1000;
    const compact = (ms) => new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '');
    const utc = (ms) => `${new Date(ms - 3600 * 1000).toISOString().slice(0, 19)}Z`;
    const local = (ms) => `${new Date(ms).toISOString().slice(0, 19)}+01:00`;

    const rows = [];
    const numbers = [];
    for (let index = 0; index < count; index++) {
      const trackingNumber = `1Z999AA1${String(index).padStart(10, '0')}`;
      const scanned = start + index * 7000;
      numbers.push(trackingNumber);
      rows.push(`${trackingNumber};${compact(scanned)};05\n${trackingNumber};${compact(scanned + later)};13\n`);
    }
    const body = `${HEADER}${rows.join('')}`;
    const server = await startServer(serveBuffer(body));
    try {
      const carrier = createCarrier(profileFor({ url: `${server.url}/scan.csv` }, { maxOpenShipments: 10000 }));
      const items = [];
      let summary = null;
      const onSummary = (value) => {
        summary = value;
      };
      for await (const item of carrier.ImportTrackingEvents({}, { onSummary })) {
        assertValidItem(item);
        items.push(item);
      }

      assert.equal(items.length, count);
      assert.deepEqual(
        items.map((item) => item.tracking_info.tracking_number),
        numbers,
      );
      assert.deepEqual(summary, {
        records: 2 * count,
        events: 2 * count,
        shipments: count,
        errors: 0,
        warnings: 0,
        duplicates: 0,
        bytes: Buffer.byteLength(body),
        replacements: 0,
      });
      for (const index of [0, 1, 2499, count - 1]) {
        const scanned = start + index * 7000;
        const info = items[index].tracking_info;
        assert.equal(info.standardized_status_code, 'DE', `status of parcel ${index}`);
        assert.equal(info.actual_delivery_datetime, utc(scanned + later), `delivery of parcel ${index}`);
        assert.deepEqual(
          info.events.map((scan) => [scan.event_datetime, scan.event_datetime_local, scan.status_code]),
          [
            [utc(scanned), local(scanned), 'AC'],
            [utc(scanned + later), local(scanned + later), 'DE'],
          ],
          `events of parcel ${index}`,
        );
      }
      // Hand-checked values for the first and last parcel.
      assert.equal(items[0].tracking_info.events[0].event_datetime, '2022-01-10T05:00:00Z');
      assert.equal(items[count - 1].tracking_info.events[0].event_datetime_local, '2022-01-10T15:43:13+01:00');
      assert.equal(items[count - 1].tracking_info.events[1].event_datetime, '2022-01-11T17:43:13Z');
    } finally {
      await server.close();
    }
  });
});
