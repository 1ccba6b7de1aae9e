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
//   node bench/generate.js                        writes bench/data/dpd-scaninfo-1000000.csv
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

const DEFAULT_ROWS = 1_000_000;
const DEFAULT_SEED = 20240320;
// 2024-03-20T05:00:00Z: a 1,000,000-row file then spans the switch to summer time on
// 2024-03-31, so the time zone conversion is tested on both offsets.
const DEFAULT_START = '2024-03-20T05:00:00Z';
const CHUNK_BYTES = 1 << 20;
// A generated row is under 300 bytes; this leaves room for any one row past CHUNK_BYTES.
const MAX_ROW_BYTES = 4096;

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

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

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

// Formats Unix seconds as Europe/Berlin wall-clock time, YYYYMMDDHHMMSS. Berlin follows
// the EU rule since 1996: UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on
// the last Sunday of October, UTC+1 otherwise. The benchmark checks this against the
// addon's time zone database and the reference's Intl conversion.
function createBerlinFormatter() {
  // The current year's bounds and summer-time interval, in Unix seconds.
  let yearStart = Infinity;
  let yearEnd = -Infinity;
  let summerStart = 0;
  let summerEnd = 0;
  let cachedDay = NaN;
  let cachedDate = '';

  return (utcSeconds) => {
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
      cachedDate = `${date.year}${TWO_DIGITS[date.month]}${TWO_DIGITS[date.day]}`;
    }
    const seconds = local - day * 86400;
    const hour = Math.floor(seconds / HOUR);
    const minute = Math.floor((seconds % HOUR) / MINUTE);
    return cachedDate + TWO_DIGITS[hour] + TWO_DIGITS[minute] + TWO_DIGITS[seconds % MINUTE];
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

// The rows of one parcel, in the order they are written, and the parcel's attributes.
function buildParcel(random, names, format, serial, baseTime) {
  const parcelNumber = SENDER_DEPOTS[serial % SENDER_DEPOTS.length] + String(5046755363 + serial).padStart(10, '0');
  const senderDepot = parcelNumber.slice(0, 4);
  const austria = random.next() < 0.6;
  const countryNumber = austria ? '040' : '276';
  const country = austria ? 'AT' : 'DE';
  const zip = austria ? String(random.int(1010, 9992)) : String(random.int(1067, 99998)).padStart(5, '0');
  const deliveryDepot = austria ? AT_DEPOTS[random.int(0, AT_DEPOTS.length - 1)] : DE_DEPOTS[random.int(0, DE_DEPOTS.length - 1)];
  const route = String(random.int(600, 699)).padStart(4, '0');
  const service = random.next() < 0.7 ? '101' : '136';
  const consignment = `0000000000${1001814630 + serial}`;
  const references = `003400369${11000000000 + serial * 7};` +
    `0000000000${4002116063 + serial};00000000000000${127330 + (serial >> 6)}`;
  const tail = `${consignment};;;;${references};;;2406033416;`;

  const rows = [];
  let time = baseTime;
  if (random.next() < 0.45) {
    const weight = random.int(15, 3000);
    const volume = `${String(random.int(10, 120)).padStart(3, '0')}${String(random.int(10, 80)).padStart(3, '0')}${String(random.int(5, 60)).padStart(3, '0')}`;
    rows.push({ time, text: `${parcelNumber};05;${senderDepot};${format(time)};${route};2;${service};${countryNumber};${country};${zip};846;;;;;${weight};${volume};;;;;${tail}` });
    time += random.int(3 * HOUR, 10 * HOUR);
  }
  const depotScans = random.next() < 0.25 ? 2 : 1;
  for (let i = 0; i < depotScans; i++) {
    rows.push({ time, text: `${parcelNumber};20;${senderDepot};${format(time)};${route};999;${service};${countryNumber};${country};${zip};095;096;;;;;;;;;;${tail}` });
    time += random.int(4 * HOUR, 8 * HOUR);
  }
  if (random.next() < 0.85) {
    time += random.int(4 * HOUR, 12 * HOUR);
    const podReference = String(6100000 + random.int(0, 99999));
    const tour = random.int(1, 600);
    const receiver = names[random.int(0, names.length - 1)];
    rows.push({ time, text: `${parcelNumber};13;${deliveryDepot};${format(time)};${deliveryDepot};${tour};${service};${countryNumber};${country};${zip};059;095;;;;;;${podReference};${receiver};;;${tail}` });
    if (random.next() < 0.6) {
      const deliveredDate = format(time).slice(0, 8);
      time += random.int(5 * MINUTE, 15 * MINUTE);
      const info = `0101:3:1:014${deliveryDepot}:${deliveredDate}:${podReference}::13::`;
      rows.push({ time, text: `${parcelNumber};18;${deliveryDepot};${format(time)};;;${service};;;;;;;;;;;${podReference};;${info};;${tail}` });
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
  const names = createNames(random, 4096);
  const format = createBerlinFormatter();
  let clock = Date.parse(options.start ?? DEFAULT_START) / 1000;

  Object.assign(stats, { rows: 0, parcels: 0, duplicates: 0, bytes: 0 });
  // Rows are encoded straight into the chunk: joining strings first cost a third of the time.
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES + MAX_ROW_BYTES);
  let length = chunk.write(`${HEADER}\n`);
  let rows = 0;
  let parcels = 0;
  let duplicates = 0;
  // Last rows held back to appear a few parcels later, as { due, row }.
  let deferred = [];
  let nextDue = Infinity;

  const addRow = (row) => {
    length += chunk.write(row.text, length);
    chunk[length++] = 10;
    rows++;
    if (row.copy) duplicates++;
  };
  const flush = () => {
    stats.rows = rows;
    stats.parcels = parcels;
    stats.duplicates = duplicates;
    stats.bytes += length;
    const full = chunk.subarray(0, length);
    chunk = Buffer.allocUnsafe(CHUNK_BYTES + MAX_ROW_BYTES);
    length = 0;
    return full;
  };

  for (let serial = 0; rows < maxRows && stats.bytes < maxBytes; serial++) {
    if (nextDue <= serial) {
      for (const entry of deferred) {
        if (entry.due <= serial && rows < maxRows) addRow(entry.row);
      }
      deferred = deferred.filter((entry) => entry.due > serial);
      nextDue = Math.min(Infinity, ...deferred.map((entry) => entry.due));
    }

    const parcelRows = buildParcel(random, names, format, serial, clock);
    clock += random.int(1, 10);
    if (parcelRows.length > 1 && random.next() < 0.02) {
      const due = serial + random.int(1, 50);
      deferred.push({ due, row: parcelRows.pop() });
      nextDue = Math.min(nextDue, due);
    }
    let counted = false;
    for (const row of parcelRows) {
      if (rows >= maxRows) break;
      addRow(row);
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

// Returns the benchmark file for `rows` data rows, writing it (and its stats) only when
// missing. The stats file records the options, so a changed option makes a new file.
async function ensureFile(rows = DEFAULT_ROWS, seed = DEFAULT_SEED) {
  const file = path.join(DATA_DIR, `dpd-scaninfo-${rows}-${seed}.csv`);
  const statsFile = `${file}.json`;
  try {
    const saved = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    if (saved.rows === rows && fs.statSync(file).size === saved.bytes) return { file, stats: saved };
  } catch {
    // Missing or unreadable: generate below.
  }
  const stats = await writeFile(file, { rows, seed });
  fs.writeFileSync(statsFile, `${JSON.stringify(stats)}\n`);
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
