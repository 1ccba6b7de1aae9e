'use strict';

// Generates a deterministic DPD Germany SCANINFO file for the benchmarks.
//
// The layout follows the real SCANINFO export: a header of 31 named columns ending in `;;`,
// `;`-separated rows ending in `;`, and SCAN_DATE_TIME as YYYYMMDDHHMMSS local time in
// Europe/Berlin without an offset. Each parcel gets about 3 scans (05 pick-up, one or two
// 20 depot scans, 13 delivery, 18 delivery information), written next to each other in
// most cases. A few parcels have their rows in reverse time order, a repeated row, or a
// last row that appears up to 50 parcels later, so that sorting, duplicate removal and the
// grouping window all have work to do.
//
// The same options always produce the same bytes. The output is either a file of a given
// number of data rows or a stream of about a given number of bytes that is never stored.
//
//   node bench/generate.js                        writes bench/data/dpd-scaninfo-1000000-20240320.csv
//   node bench/generate.js --rows 50000 --out F   writes 50,000 data rows to F
//   node bench/generate.js --bytes 1e9 --stdout   streams about 1 GB to standard output

const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');

const HEADER =
  'PARCELNO;SCAN_CODE;DEPOT_CODE;SCAN_DATE_TIME;ROUTE;TOUR;SERVICE;RCOUNTRYN;RCOUNTRY;' +
  'CONSIGNEE_ZIP;ADD_SERVICE_1;ADD_SERVICE_2;ADD_SERVICE_3;ADD_SERVICE_4;ADD_SERVICE_5;' +
  'WEIGHT;VOLUME;POD_IMAGE_REF;RECEIVER_NAME;INFO_TEXT;LOCATION;MPSCREF1;MPSCREF2;MPSCREF3;' +
  'MPSCREF4;CREF1;CREF2;CREF3;CREF4;CUSTOMER_REFERENCE;DELISUSR;;';

// Raise when a change to this file changes its output, so saved files are made again.
const GENERATOR_VERSION = 2;
const DEFAULT_ROWS = 1_000_000;
const DEFAULT_SEED = 20240320;
// 2024-03-20T05:00:00Z: a 1,000,000-row file then spans the switch to summer time on
// 2024-03-31, so the time zone conversion is tested on both offsets.
const DEFAULT_START = '2024-03-20T05:00:00Z';
const CHUNK_BYTES = 1 << 20;
// A generated row is under 300 bytes, and a parcel has at most 5 rows.
const MAX_ROW_BYTES = 512;

const DATA_DIR = path.join(__dirname, 'data');

const HOUR = 3600;
const MINUTE = 60;

// Pseudo-random numbers from Marsaglia's xorshift32: fast and the same on every machine.
function createRandom(seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  return { next, int };
}

// Converts a day count since 1970-01-01 to a civil date (proleptic Gregorian calendar).
function civilFromDays(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

// Returns the Unix second at 01:00 UTC on the last Sunday of a month (0-based month).
function lastSundayAtOneUtc(year, month) {
  const lastDay = Date.UTC(year, month + 1, 0) / 1000;
  const weekday = (Math.floor(lastDay / 86400) + 4) % 7; // 1970-01-01 was a Thursday (4).
  return lastDay - weekday * 86400 + HOUR;
}

// Appends ASCII text and digits to a Buffer. Writing rows as bytes was about 10% faster
// than building row strings and encoding them, which matters when the HTTP server of the
// benchmark generates 1 GB while the importer runs on the same two cores.
class ByteWriter {
  constructor(size) {
    this.bytes = Buffer.allocUnsafe(size);
    this.length = 0;
  }

  // Appends a string of ASCII characters only.
  ascii(text) {
    const bytes = this.bytes;
    let position = this.length;
    for (let i = 0; i < text.length; i++) bytes[position++] = text.charCodeAt(i);
    this.length = position;
  }

  // Appends encoded bytes.
  raw(source) {
    const bytes = this.bytes;
    let position = this.length;
    for (let i = 0; i < source.length; i++) bytes[position++] = source[i];
    this.length = position;
  }

  // Appends a non-negative integer, zero-padded to `width` digits.
  digits(value, width) {
    const bytes = this.bytes;
    let position = this.length + width;
    this.length = position;
    for (let i = 0; i < width; i++) {
      bytes[--position] = 48 + (value % 10);
      value = Math.floor(value / 10);
    }
  }

  // Appends a non-negative integer without padding.
  number(value) {
    let width = 1;
    for (let limit = 10; value >= limit; limit *= 10) width++;
    this.digits(value, width);
  }
}

// Writes Unix seconds as Europe/Berlin wall-clock time, YYYYMMDDHHMMSS. Berlin follows
// the EU rule since 1996: UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on
// the last Sunday of October, UTC+1 otherwise. The benchmark checks the files made with
// this against the addon's time zone database and the reference's Intl conversion.
function createBerlinWriter() {
  // The current year's bounds and summer-time interval, in Unix seconds.
  let yearStart = Infinity;
  let yearEnd = -Infinity;
  let summerStart = 0;
  let summerEnd = 0;
  let cachedDay = NaN;
  let cachedDate = 0;

  return (writer, utcSeconds) => {
    if (utcSeconds < yearStart || utcSeconds >= yearEnd) {
      const year = new Date(utcSeconds * 1000).getUTCFullYear();
      yearStart = Date.UTC(year, 0, 1) / 1000;
      yearEnd = Date.UTC(year + 1, 0, 1) / 1000;
      summerStart = lastSundayAtOneUtc(year, 2);
      summerEnd = lastSundayAtOneUtc(year, 9);
    }
    const offset = utcSeconds >= summerStart && utcSeconds < summerEnd ? 2 * HOUR : HOUR;
    const local = utcSeconds + offset;
    const day = Math.floor(local / 86400);
    if (day !== cachedDay) {
      const date = civilFromDays(day);
      cachedDay = day;
      cachedDate = date.year * 10000 + date.month * 100 + date.day;
    }
    const seconds = local - day * 86400;
    const hour = Math.floor(seconds / HOUR);
    const minute = Math.floor((seconds % HOUR) / MINUTE);
    writer.digits(cachedDate, 8);
    writer.digits(hour * 10000 + minute * 100 + (seconds % MINUTE), 6);
  };
}

const SYLLABLES = ['BA', 'KER', 'MUL', 'LER', 'SCHMI', 'DT', 'WAG', 'NER', 'HOF', 'MANN', 'BECK', 'FISCH',
  'WEB', 'ZIM', 'MER', 'KOCH', 'RICH', 'TER', 'KLEIN', 'WOLF', 'NEU', 'HUB', 'LANG', 'STEIN'];
const UMLAUT_SYLLABLES = ['MÜL', 'BÖH', 'JÄ', 'KRÜ', 'GER', 'LÖW', 'SCHRÖ', 'DER'];

// Builds invented receiver names; about 1 in 30 contains an umlaut, as German names do.
function createNames(random, count) {
  const names = [];
  for (let i = 0; i < count; i++) {
    const pool = random.next() < 0.033 ? UMLAUT_SYLLABLES : SYLLABLES;
    let name = pool[random.int(0, pool.length - 1)];
    const parts = random.int(1, 2);
    for (let j = 0; j < parts; j++) name += SYLLABLES[random.int(0, SYLLABLES.length - 1)];
    names.push(name);
  }
  return names;
}

const SENDER_DEPOTS = ['0186', '0190', '0163', '0111'];
const AT_DEPOTS = ['0620', '0622', '0624', '0626', '0627', '0645', '0648'];
const DE_DEPOTS = ['0101', '0112', '0130', '0142', '0155', '0176', '0197'];

// Writes the rows of one parcel to `writer` (which starts empty) and returns them in the
// order they go into the file, as { start, end, copy } byte ranges that include the '\n'.
function buildParcel(random, names, writeTime, writer, serial, baseTime) {
  const senderDepot = SENDER_DEPOTS[serial % SENDER_DEPOTS.length];
  const parcelNumber = senderDepot + String(5046755363 + serial).padStart(10, '0');
  const austria = random.next() < 0.6;
  const countryNumber = austria ? '040' : '276';
  const country = austria ? 'AT' : 'DE';
  const zip = austria ? String(random.int(1010, 9992)) : String(random.int(1067, 99998)).padStart(5, '0');
  const deliveryDepot = austria ? AT_DEPOTS[random.int(0, AT_DEPOTS.length - 1)] : DE_DEPOTS[random.int(0, DE_DEPOTS.length - 1)];
  const route = String(random.int(600, 699)).padStart(4, '0');
  const service = random.next() < 0.7 ? '101' : '136';
  const serviceAndCountry = `;${service};${countryNumber};${country};${zip};`;
  // The columns from MPSCREF1 to the end, the same in every row of the parcel: written out
  // once, then copied.
  let tailStart = -1;
  let tailEnd = -1;
  const writeTail = () => {
    if (tailStart >= 0) {
      writer.bytes.copyWithin(writer.length, tailStart, tailEnd);
      writer.length += tailEnd - tailStart;
      return;
    }
    tailStart = writer.length;
    writer.ascii(`0000000000${1001814630 + serial};;;;003400369${11000000000 + serial * 7};` +
      `0000000000${4002116063 + serial};00000000000000${127330 + (serial >> 6)};;;2406033416;\n`);
    tailEnd = writer.length;
  };

  const rows = [];
  const beginRow = (code, depot, time) => {
    const start = writer.length;
    writer.ascii(parcelNumber);
    writer.ascii(code);
    writer.ascii(depot);
    writer.ascii(';');
    writeTime(writer, time);
    return start;
  };
  let time = baseTime;
  if (random.next() < 0.45) {
    const start = beginRow(';05;', senderDepot, time);
    writer.ascii(`;${route};2`);
    writer.ascii(serviceAndCountry);
    writer.ascii('846;;;;;');
    writer.number(random.int(15, 3000));
    writer.ascii(';');
    writer.digits(random.int(10, 120), 3);
    writer.digits(random.int(10, 80), 3);
    writer.digits(random.int(5, 60), 3);
    writer.ascii(';;;;;');
    writeTail();
    rows.push({ start, end: writer.length, copy: false });
    time += random.int(3 * HOUR, 10 * HOUR);
  }
  const depotScans = random.next() < 0.25 ? 2 : 1;
  for (let i = 0; i < depotScans; i++) {
    const start = beginRow(';20;', senderDepot, time);
    writer.ascii(`;${route};999`);
    writer.ascii(serviceAndCountry);
    writer.ascii('095;096;;;;;;;;;;');
    writeTail();
    rows.push({ start, end: writer.length, copy: false });
    time += random.int(4 * HOUR, 8 * HOUR);
  }
  if (random.next() < 0.85) {
    time += random.int(4 * HOUR, 12 * HOUR);
    const podReference = String(6100000 + random.int(0, 99999));
    const tour = random.int(1, 600);
    const receiver = names[random.int(0, names.length - 1)];
    const start = beginRow(';13;', deliveryDepot, time);
    // The date part of SCAN_DATE_TIME, after the parcel number, code and depot.
    const deliveredDate = writer.bytes.subarray(start + 23, start + 31);
    writer.ascii(`;${deliveryDepot};${tour}`);
    writer.ascii(serviceAndCountry);
    writer.ascii(`059;095;;;;;;${podReference};`);
    writer.raw(receiver);
    writer.ascii(';;;');
    writeTail();
    rows.push({ start, end: writer.length, copy: false });
    if (random.next() < 0.6) {
      time += random.int(5 * MINUTE, 15 * MINUTE);
      const infoStart = beginRow(';18;', deliveryDepot, time);
      writer.ascii(`;;;${service};;;;;;;;;;;${podReference};;0101:3:1:014${deliveryDepot}:`);
      writer.raw(deliveredDate);
      writer.ascii(`:${podReference}::13::;;`);
      writeTail();
      rows.push({ start: infoStart, end: writer.length, copy: false });
    }
  }

  if (random.next() < 0.05) rows.reverse();
  if (random.next() < 0.01) {
    const index = random.int(0, rows.length - 1);
    rows.splice(index + 1, 0, { ...rows[index], copy: true });
  }
  return rows;
}

// Yields the file as Buffer chunks of about 1 MiB: the header, then data rows.
//
// Stops after `rows` data rows, or once about `bytes` bytes were produced (at the end of
// a chunk). `stats` is updated as chunks are yielded: data rows, distinct parcels, rows
// that repeat an earlier row exactly (the grouping removes them) and UTF-8 bytes.
function* generateChunks(options = {}, stats = {}) {
  const maxRows = options.bytes === undefined ? (options.rows ?? DEFAULT_ROWS) : Infinity;
  const maxBytes = options.bytes ?? Infinity;
  const random = createRandom(options.seed ?? DEFAULT_SEED);
  const names = createNames(random, 4096).map((name) => Buffer.from(name));
  const writeTime = createBerlinWriter();
  const scratch = new ByteWriter(MAX_ROW_BYTES * 8);
  let clock = Date.parse(options.start ?? DEFAULT_START) / 1000;

  Object.assign(stats, { rows: 0, parcels: 0, duplicates: 0, bytes: 0 });
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES + MAX_ROW_BYTES * 64);
  let length = chunk.write(`${HEADER}\n`);
  let rows = 0;
  let parcels = 0;
  let duplicates = 0;
  // Last rows held back to appear a few parcels later, as { due, bytes, copy }.
  let deferred = [];
  let nextDue = Infinity;

  const addRow = (source, start, end, copy) => {
    length += source.copy(chunk, length, start, end);
    rows++;
    if (copy) duplicates++;
  };
  const flush = () => {
    stats.rows = rows;
    stats.parcels = parcels;
    stats.duplicates = duplicates;
    stats.bytes += length;
    const full = chunk.subarray(0, length);
    chunk = Buffer.allocUnsafe(CHUNK_BYTES + MAX_ROW_BYTES * 64);
    length = 0;
    return full;
  };

  for (let serial = 0; rows < maxRows && stats.bytes < maxBytes; serial++) {
    if (nextDue <= serial) {
      for (const entry of deferred) {
        if (entry.due <= serial && rows < maxRows) addRow(entry.bytes, 0, entry.bytes.length, entry.copy);
      }
      deferred = deferred.filter((entry) => entry.due > serial);
      nextDue = Math.min(Infinity, ...deferred.map((entry) => entry.due));
    }

    scratch.length = 0;
    const parcelRows = buildParcel(random, names, writeTime, scratch, serial, clock);
    clock += random.int(1, 10);
    if (parcelRows.length > 1 && random.next() < 0.02) {
      const due = serial + random.int(1, 50);
      const row = parcelRows.pop();
      deferred.push({ due, bytes: Buffer.from(scratch.bytes.subarray(row.start, row.end)), copy: row.copy });
      nextDue = Math.min(nextDue, due);
    }
    let counted = false;
    for (const row of parcelRows) {
      if (rows >= maxRows) break;
      addRow(scratch.bytes, row.start, row.end, row.copy);
      if (!counted) {
        parcels++;
        counted = true;
      }
    }

    if (length >= CHUNK_BYTES) yield flush();
  }
  if (length > 0) yield flush();
  return stats;
}

// Writes a generated file with backpressure; resolves to its stats.
async function writeFile(file, options = {}) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const output = fs.createWriteStream(partial);
  const stats = {};
  for (const chunk of generateChunks(options, stats)) {
    if (!output.write(chunk)) await once(output, 'drain');
  }
  output.end();
  await once(output, 'finish');
  fs.renameSync(partial, file);
  return stats;
}

// Returns the benchmark file for `rows` data rows and its stats, writing both only when
// missing or made by another GENERATOR_VERSION. The seed is part of the file name.
async function ensureFile(rows = DEFAULT_ROWS, seed = DEFAULT_SEED) {
  const file = path.join(DATA_DIR, `dpd-scaninfo-${rows}-${seed}.csv`);
  const statsFile = `${file}.json`;
  try {
    const saved = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    const current = saved.version === GENERATOR_VERSION && saved.rows === rows;
    if (current && fs.statSync(file).size === saved.bytes) return { file, stats: saved };
  } catch {
    // Missing or unreadable: generate below.
  }
  const stats = await writeFile(file, { rows, seed });
  fs.writeFileSync(statsFile, `${JSON.stringify({ version: GENERATOR_VERSION, ...stats })}\n`);
  return { file, stats };
}

function parseArguments(argv) {
  const options = { rows: DEFAULT_ROWS, seed: DEFAULT_SEED, out: null, stdout: false, bytes: undefined };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    switch (name) {
      case '--rows': options.rows = Number(value); i++; break;
      case '--bytes': options.bytes = Number(value); i++; break;
      case '--seed': options.seed = Number(value); i++; break;
      case '--start': options.start = value; i++; break;
      case '--out': options.out = value; i++; break;
      case '--stdout': options.stdout = true; break;
      default:
        throw new Error(`unknown option ${name}; use --rows N, --bytes N, --seed N, --start ISO-TIME, --out FILE or --stdout`);
    }
  }
  for (const key of ['rows', 'bytes', 'seed']) {
    if (options[key] !== undefined && !(Number.isSafeInteger(options[key]) && options[key] > 0)) {
      throw new Error(`--${key} must be a positive integer, not ${options[key]}`);
    }
  }
  return options;
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  if (options.stdout) {
    process.stdout.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
    const stats = {};
    for (const chunk of generateChunks(options, stats)) {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
    console.error(`generate: ${stats.rows} rows, ${stats.parcels} parcels, ${stats.bytes} bytes`);
    return;
  }
  const started = process.hrtime.bigint();
  let file;
  let stats;
  if (options.out) {
    file = options.out;
    stats = await writeFile(file, options);
  } else {
    ({ file, stats } = await ensureFile(options.rows, options.seed));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(`generate: ${file}: ${stats.rows} rows, ${stats.parcels} parcels, ${stats.duplicates} repeated rows, ${stats.bytes} bytes (${seconds.toFixed(1)} s)`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`generate: ${error.message}`);
    process.exit(1);
  });
}

module.exports = { HEADER, DEFAULT_ROWS, DEFAULT_SEED, generateChunks, writeFile, ensureFile };
