'use strict';

// `npm run bench`: import throughput of the addon against a csv-parse reference and a
// ready-made-objects ceiling, then the addon's peak memory on a ~1 GB HTTP import. A
// fourth contender times only the addon's JavaScript half (decoding batches made before
// the clock starts), which bounds what any speed-up of the Rust producer can give.
//
// Every measurement runs in its own child process, so each peak RSS belongs to one
// contender. Records per second counts input data rows. The HTTP server is started here
// on 127.0.0.1 with an OS-assigned port and generates the file while it sends it.
//
//   node --expose-gc bench/run.js [--rows N] [--runs N] [--http-bytes N] [--no-http]
//                                 [--max-open-shipments N]
//
// --rows sets the data rows of the file (1,000,000), --runs the runs per contender (3),
// --http-bytes the size of the served file (1e9 bytes), and --max-open-shipments replaces
// the profile's grouping window (10,000 shipments by default) for every contender.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const util = require('node:util');

const { ensureFile, writeFile, generateChunks, HEADER, DEFAULT_SEED } = require('./generate.js');

const ROOT = path.resolve(__dirname, '..');
const REQUEST = { transaction_id: 'bench', metadata: {} };

const TARGET_REFERENCE_RATIO = 4;
const TARGET_CEILING_RATIO = 0.5;
const TARGET_HTTP_RSS_BYTES = 100e6;

// Time limits, so that the benchmark always ends by itself.
const FILE_RUN_TIMEOUT_MS = 180_000;
const CHECK_TIMEOUT_MS = 180_000;
const HTTP_RUN_TIMEOUT_MS = 300_000;
const TOTAL_TIMEOUT_MS = 20 * 60_000;

const MB = 1e6;
const MIN_GROUPING_WINDOW = 64;

// Set by the parent for its children when --max-open-shipments is given.
const MAX_OPEN_VARIABLE = 'CONNECT_TRACKING_BENCH_MAX_OPEN_SHIPMENTS';

// Reads bench/profile.json, with the grouping window that --max-open-shipments sets.
function loadProfile() {
  const profile = JSON.parse(fs.readFileSync(path.join(__dirname, 'profile.json'), 'utf8'));
  const maxOpen = process.env[MAX_OPEN_VARIABLE];
  if (maxOpen) profile.grouping = { ...profile.grouping, max_open_shipments: Number(maxOpen) };
  return profile;
}

const PROFILE = loadProfile();

// ---------------------------------------------------------------------------------------
// Child processes: each runs one measurement and prints one JSON line.

function peakMemory() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return {
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    vmHwmBytes: match ? Number(match[1]) * 1024 : null,
  };
}

// Consumes an import with `for await` and times it.
async function consume(iterable) {
  let items = 0;
  let events = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  for await (const item of iterable) {
    items++;
    if (item.tracking_info) events += item.tracking_info.events.length;
    else errors++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { items, events, errors, seconds };
}

async function runChild(kind, args) {
  global.gc?.();
  let summary = null;
  const onSummary = (value) => {
    summary = value;
  };
  let result;

  if (kind === 'addon' || kind === 'http') {
    const { createCarrier } = require(ROOT);
    const carrier = createCarrier(PROFILE);
    global.gc?.();
    result = await consume(carrier.ImportTrackingEvents(REQUEST, { source: args[0], onSummary }));
  } else if (kind === 'reference') {
    const { importWithCsvParse } = require('./reference.js');
    result = await consume(importWithCsvParse(PROFILE, { source: args[0], onSummary }));
  } else if (kind === 'ceiling') {
    const { buildItems, yieldItems } = require('./ceiling.js');
    const items = buildItems(Number(args[0]), Number(args[1]));
    global.gc?.();
    result = await consume(yieldItems(items));
  } else if (kind === 'decode') {
    const { collectBatches, decodeAndYield } = require('./decode-only.js');
    const batches = await collectBatches(PROFILE, REQUEST, args[0]);
    global.gc?.();
    result = await consume(decodeAndYield(batches));
  } else if (kind === 'check') {
    result = await checkEquivalence(args[0]);
  } else {
    throw new Error(`unknown child kind ${kind}`);
  }

  console.log(JSON.stringify({ ...result, summary, ...peakMemory() }));
}

// ---------------------------------------------------------------------------------------
// Equivalence: the reference must yield what the addon yields, or the race is unfair.

function edgeCaseFile(file) {
  const row = (parcel, code, time, { zip = '6845', country = 'AT', signer = '' } = {}) =>
    `${parcel};${code};0627;${time};0627;30;101;040;${country};${zip};059;095;;;;;;6128925;${signer};;;` +
    '00000000000001814630;;;;00340036920047361389;00000000004002116063;00000000000000027330;;;2406033416;';
  const lines = [
    HEADER,
    // Spring gap in Berlin: 02:00-03:00 on 2024-03-31 does not exist.
    row('01860000000001', '05', '20240331013000'),
    row('01860000000001', '20', '20240331023000'),
    row('01860000000001', '13', '20240331033000', { signer: 'MÜLLER' }),
    // Autumn fold: 02:00-03:00 on 2024-10-27 happens twice.
    row('01860000000002', '13', '20241027023000', { signer: 'JÄGER' }),
    row('01860000000002', '20', '20241027015959'),
    row('01860000000002', '18', '20241027030000', { zip: '', country: '' }),
    // A code missing from the statuses table, with surrounding spaces to trim.
    row('01860000000003', '99', '20240115120000', { zip: ' 1010 ' }),
    '   ',
    '',
    // An invalid calendar date, a short row and an empty tracking number.
    row('01860000000004', '13', '20240231120000'),
    '01860000000005;13;0627',
    row('', '13', '20240115120000'),
    // A repeated event, the same time with another code, and an informational scan
    // after the delivery.
    row('01860000000006', '13', '20240701101500'),
    row('01860000000006', '13', '20240701101500'),
    row('01860000000006', '18', '20240701101500', { zip: '', country: '' }),
    row('01860000000006', '18', '20240701110000', { zip: '', country: '' }),
    row('01860000000007', '20', '20231231235959'),
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

// Replaces error items by a marker: the two implementations word their messages apart.
function normalize(item) {
  return item.error_messages ? { error: true } : item;
}

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(normalize(item));
  return items;
}

async function checkEquivalence(directory) {
  const { createCarrier } = require(ROOT);
  const { importWithCsvParse } = require('./reference.js');
  const carrier = createCarrier(PROFILE);

  const files = [
    { name: 'spring DST switch, 30,000 rows', file: path.join(directory, 'spring.csv'), rows: 30_000, start: '2024-03-30T18:00:00Z' },
    { name: 'autumn DST switch, 30,000 rows', file: path.join(directory, 'autumn.csv'), rows: 30_000, start: '2024-10-26T16:00:00Z' },
    { name: 'edge cases (gap, fold, bad rows)', file: path.join(directory, 'edge.csv') },
  ];
  const results = [];
  for (const entry of files) {
    if (entry.rows) await writeFile(entry.file, { rows: entry.rows, start: entry.start, seed: DEFAULT_SEED });
    else edgeCaseFile(entry.file);

    const addon = await collect(carrier.ImportTrackingEvents(REQUEST, { source: entry.file }));
    const reference = await collect(importWithCsvParse(PROFILE, { source: entry.file }));
    let mismatches = 0;
    let firstMismatch = null;
    for (let i = 0; i < Math.max(addon.length, reference.length); i++) {
      if (!util.isDeepStrictEqual(addon[i], reference[i])) {
        mismatches++;
        firstMismatch ??= { index: i, addon: addon[i], reference: reference[i] };
      }
    }
    results.push({ name: entry.name, addonItems: addon.length, referenceItems: reference.length, mismatches, firstMismatch });
  }
  return { files: results };
}

// ---------------------------------------------------------------------------------------
// The parent: starts the children, serves the HTTP file and prints the results.

const children = new Set();

function spawnChild(kind, args, timeoutMs) {
  const child = spawn(process.execPath, ['--expose-gc', __filename, '--child', kind, ...args.map(String)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    output += text;
  });
  const timer = setTimeout(() => {
    console.error(`bench: the ${kind} run timed out after ${timeoutMs / 1000} s; stopping it`);
    child.kill('SIGKILL');
  }, timeoutMs);

  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const last = output.trim().split('\n').pop();
      if (code !== 0) {
        reject(new Error(`the ${kind} run failed (exit code ${code}, signal ${signal}); output: ${output.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`the ${kind} run printed no result line; output: ${output.slice(-2000)}`));
      }
    });
  });
}

function parseArguments(argv) {
  const options = { rows: 1_000_000, runs: 3, httpBytes: 1e9, http: true, maxOpenShipments: null };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = Number(argv[i + 1]);
    if (name === '--no-http') {
      options.http = false;
      continue;
    }
    const key = { '--rows': 'rows', '--runs': 'runs', '--http-bytes': 'httpBytes', '--max-open-shipments': 'maxOpenShipments' }[name];
    if (!key) throw new Error(`unknown option ${name}; use --rows N, --runs N, --http-bytes N, --max-open-shipments N or --no-http`);
    if (!(Number.isSafeInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer, not ${argv[i + 1]}`);
    options[key] = value;
    i++;
  }
  if (options.maxOpenShipments !== null && options.maxOpenShipments < MIN_GROUPING_WINDOW) {
    // The generator moves some rows up to 50 parcels later. A smaller window splits those
    // parcels into two items, so the item counts checked below would no longer hold.
    throw new Error(`--max-open-shipments must be at least ${MIN_GROUPING_WINDOW}, not ${options.maxOpenShipments}`);
  }
  return options;
}

function commandOutput(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : `unavailable (${command} ${args.join(' ')} failed)`;
}

function describeMachine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const memory = /^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return {
    cpus: os.availableParallelism(),
    model,
    memory: memory ? `${(Number(memory) / 1024 / 1024).toFixed(1)} GiB` : 'unknown',
    node: process.version,
    rustc: commandOutput('rustc', ['--version']),
    load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const formatRate = (value) => `${Math.round(value).toLocaleString('en-US')}`;
const formatMb = (bytes) => `${(bytes / MB).toFixed(1)} MB`;
const verdict = (met) => (met ? 'met' : 'NOT met');

function printTable(rows, columns) {
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(columns));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((column) => row[column])));
}

async function runCheck() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-bench-'));
  try {
    const result = await spawnChild('check', [directory], CHECK_TIMEOUT_MS);
    console.log('\nEquivalence of the reference and the addon (shipments deep-equal, errors at the same places):');
    let ok = true;
    for (const file of result.files) {
      const same = file.mismatches === 0 && file.addonItems === file.referenceItems;
      ok &&= same;
      console.log(`  ${same ? 'same' : 'DIFFERENT'}: ${file.name}: ${file.addonItems} items from the addon, ${file.referenceItems} from the reference, ${file.mismatches} differ`);
      if (file.firstMismatch) console.log(`    first difference: ${JSON.stringify(file.firstMismatch)}`);
    }
    return ok;
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

async function runFileContenders(file, stats, runs) {
  const expectedItems = stats.parcels;
  const expectedEvents = stats.rows - stats.duplicates;
  const contenders = [
    { name: 'addon', label: 'connect-tracking addon', args: [file] },
    { name: 'reference', label: 'fs.createReadStream + csv-parse', args: [file] },
    { name: 'ceiling', label: 'ceiling (prebuilt objects)', args: [expectedItems, expectedEvents] },
    { name: 'decode', label: 'addon, decoding only (batches made before the clock)', args: [file] },
  ];
  const results = new Map(contenders.map((contender) => [contender.name, []]));

  // Runs alternate between contenders, so that a busy moment on the machine does not hit
  // all runs of one contender.
  for (let run = 1; run <= runs; run++) {
    for (const contender of contenders) {
      const result = await spawnChild(contender.name, contender.args, FILE_RUN_TIMEOUT_MS);
      const rate = stats.rows / result.seconds;
      console.error(`bench: run ${run}/${runs} ${contender.name}: ${result.seconds.toFixed(2)} s, ${formatRate(rate)} records/s, peak RSS ${formatMb(result.maxRssBytes)}`);
      if (result.items !== expectedItems || result.events !== expectedEvents || result.errors !== 0) {
        throw new Error(`${contender.name} yielded ${result.items} items with ${result.events} events and ${result.errors} errors; expected ${expectedItems} items with ${expectedEvents} events`);
      }
      results.get(contender.name).push({ ...result, rate });
    }
  }

  const table = contenders.map((contender) => {
    const measured = results.get(contender.name);
    const rates = measured.map((result) => result.rate);
    return {
      name: contender.name,
      contender: contender.label,
      'records/s (median)': formatRate(median(rates)),
      'records/s (each run)': rates.map(formatRate).join(', '),
      'seconds (median)': median(measured.map((result) => result.seconds)).toFixed(2),
      'peak RSS (max)': formatMb(Math.max(...measured.map((result) => result.maxRssBytes))),
      rate: median(rates),
    };
  });
  console.log(`\nThroughput: ${stats.rows.toLocaleString('en-US')} data rows, ${stats.parcels.toLocaleString('en-US')} items, ${formatMb(stats.bytes)} file, ${runs} runs each`);
  printTable(table, ['contender', 'records/s (median)', 'records/s (each run)', 'seconds (median)', 'peak RSS (max)']);
  return Object.fromEntries(table.map((row) => [row.name, row.rate]));
}

// Serves a generated file of about `bytes` bytes at /dpd-scaninfo.csv on 127.0.0.1.
async function startServer(bytes) {
  const served = { requests: 0, rows: 0, bytes: 0, complete: false };
  const server = http.createServer(async (request, response) => {
    if (request.method !== 'GET' || request.url !== '/dpd-scaninfo.csv') {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found; the benchmark serves GET /dpd-scaninfo.csv\n');
      return;
    }
    served.requests++;
    let closed = false;
    const closedPromise = once(response, 'close').then(() => {
      closed = true;
    });
    response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
    const stats = {};
    for (const chunk of generateChunks({ bytes, seed: DEFAULT_SEED }, stats)) {
      if (closed) return;
      if (!response.write(chunk)) await Promise.race([once(response, 'drain'), closedPromise]);
      served.rows = stats.rows;
      served.bytes = stats.bytes;
    }
    served.complete = true;
    response.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, served, url: `http://127.0.0.1:${server.address().port}/dpd-scaninfo.csv` };
}

async function runHttp(bytes) {
  const { server, served, url } = await startServer(bytes);
  try {
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const result = await spawnChild('http', [url], HTTP_RUN_TIMEOUT_MS);
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    const serverCpu = (cpu.user + cpu.system) / 1e6;

    const records = result.summary?.records ?? 0;
    if (!served.complete || records !== served.rows) {
      throw new Error(`the HTTP import read ${records} records but the server sent ${served.rows} rows (complete: ${served.complete})`);
    }
    const rate = records / result.seconds;
    console.log(`\nHTTP import of a generated file from ${url.replace(/\/dpd.*/, '')} (127.0.0.1, port chosen by the OS):`);
    printTable([{
      bytes: `${formatMb(served.bytes)}`,
      records: records.toLocaleString('en-US'),
      items: result.items.toLocaleString('en-US'),
      seconds: result.seconds.toFixed(2),
      'records/s': formatRate(rate),
      'importer peak RSS (maxRSS)': formatMb(result.maxRssBytes),
      'importer VmHWM': result.vmHwmBytes === null ? 'unknown' : formatMb(result.vmHwmBytes),
    }], ['bytes', 'records', 'items', 'seconds', 'records/s', 'importer peak RSS (maxRSS)', 'importer VmHWM']);
    console.log(`  The server generated the file while sending it and used ${serverCpu.toFixed(1)} s of CPU in ${wall.toFixed(1)} s (${Math.round((serverCpu / wall) * 100)}% of one core).`);
    return { rate, peak: result.maxRssBytes };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const deadline = setTimeout(() => {
    console.error(`bench: stopped after the overall limit of ${TOTAL_TIMEOUT_MS / 60_000} minutes`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, TOTAL_TIMEOUT_MS);
  deadline.unref();

  if (options.maxOpenShipments !== null) process.env[MAX_OPEN_VARIABLE] = String(options.maxOpenShipments);
  const machine = describeMachine();
  console.log(`Machine: ${machine.cpus} CPUs (${machine.model}), ${machine.memory} memory, Node.js ${machine.node}, ${machine.rustc}`);
  console.log(`Load average before the run: ${machine.load}`);

  const { file, stats } = await ensureFile(options.rows, DEFAULT_SEED);
  console.log(`Input: ${path.relative(ROOT, file)}`);
  console.log(`Grouping window: ${options.maxOpenShipments ?? PROFILE.grouping?.max_open_shipments ?? 10_000} open shipments`);

  const equivalent = await runCheck();
  const rates = await runFileContenders(file, stats, options.runs);
  const http = options.http ? await runHttp(options.httpBytes) : null;

  const referenceRatio = rates.addon / rates.reference;
  const ceilingRatio = rates.addon / rates.ceiling;
  console.log('\nTargets:');
  console.log(`  addon / csv-parse reference = ${referenceRatio.toFixed(2)}x (target at least ${TARGET_REFERENCE_RATIO}x): ${verdict(referenceRatio >= TARGET_REFERENCE_RATIO)}`);
  console.log(`  addon / ceiling = ${ceilingRatio.toFixed(2)}x (target at least ${TARGET_CEILING_RATIO}x): ${verdict(ceilingRatio >= TARGET_CEILING_RATIO)}`);
  console.log(`  (decoding only / ceiling = ${(rates.decode / rates.ceiling).toFixed(2)}x: the most the addon could reach with a producer that took no time)`);
  if (http) {
    console.log(`  peak RSS of the ~${formatMb(options.httpBytes)} HTTP import = ${formatMb(http.peak)} (target under ${formatMb(TARGET_HTTP_RSS_BYTES)}): ${verdict(http.peak < TARGET_HTTP_RSS_BYTES)}`);
  } else {
    console.log('  peak RSS of the HTTP import: not measured (--no-http)');
  }
  console.log(`Load average after the run: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

  if (!equivalent) {
    console.error('bench: the reference and the addon yielded different items, so the comparison is not valid');
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--child') {
  runChild(process.argv[3], process.argv.slice(4)).catch((error) => {
    console.error(`bench child ${process.argv[3]}: ${error.stack}`);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(`bench: ${error.message}`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  });
}
