'use strict';

// The pure-JavaScript contender: fs.createReadStream and csv-parse doing the work that the
// addon does for a delimited profile, yielding the same ImportedTrackingEvent objects.
//
// It reads the same carrier profile and supports the part of it that the benchmark uses:
// a delimited file with a header row, fields given as column names or as
// `{ column, format: '%Y%m%d%H%M%S' }`, the statuses table (exact and prefix entries),
// time_zone, grouping and update_method. Like the addon it trims fields, checks the field
// count and converts local times to UTC. It groups rows into one item per tracking number
// in a first-in, first-out window of `grouping.max_open_shipments`. Each item has its
// events sorted by time without repeats (same time, code and place), and the status of
// its latest event whose status is not UN. Unlike the addon, it ends the import at a
// quote that is never closed, because csv-parse cannot resume after one, and it keeps
// text after a closing quote as written (`"Wien"er` stays `"Wien"er`, where the addon
// yields `Wiener`). The benchmark's file has neither.

const fs = require('node:fs');
const { parse } = require('csv-parse');
const { parse: parseSync } = require('csv-parse/sync');

const DATE_TIME_FORMAT = '%Y%m%d%H%M%S';
const EVENT_FIELDS = ['event_code', 'description', 'city', 'state', 'postal_code', 'country', 'company', 'signer'];
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

// csv-parse runs with its cheapest output: arrays instead of column objects, no casting
// and no record info. An explicit record_delimiter, quote: false and reads of 64 KiB to
// 1 MiB made no difference beyond the run-to-run noise, so the quote stays as the
// profile sets it. The header is read separately (see readHeader), because csv-parse
// (5.6) takes the first record's length as the expected one and builds a CsvError, stack
// trace included, for every record of another length even when relax_column_count lets
// the record through. SCANINFO headers end in `;;` and rows in `;`, so with the header in
// the stream every row paid for that, which made the import about twice as slow.
const READ_CHUNK_BYTES = 1 << 20;
const MAX_HEADER_BYTES = 1 << 16;

// Converts wall-clock times in one IANA zone to instants, with Intl for the zone rules.
//
// An hour whose offset is the same one day before and one day after is resolved once and
// cached. Hours near a transition are resolved per minute, trying the offsets from one
// day before and one day after. A time in a fold takes the earlier instant. A time in a
// gap takes the offset from before the transition, so 02:30 in a spring gap becomes
// 03:30. That is jiff's `compatible` disambiguation, which the addon uses, and run.js
// compares both on a gap and a fold before it measures.
// NOTE: the per-minute step assumes that the zone's transitions fall on whole minutes
// and that no two transitions are less than a day apart, as in Europe/Berlin.
class ZoneConverter {
  constructor(timeZone) {
    this.formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    // Local hour number → offset in ms, or a Map of local minute number → resolution.
    this.hours = new Map();
  }

  // Returns the zone's UTC offset in ms at an instant.
  offsetAt(instantMs) {
    const parts = this.formatter.formatToParts(new Date(instantMs));
    const value = (type) => Number(parts.find((part) => part.type === type).value);
    const wall = Date.UTC(value('year'), value('month') - 1, value('day'), value('hour'), value('minute'), value('second'));
    return wall - Math.floor(instantMs / 1000) * 1000;
  }

  // Resolves a local time (ms as if it were UTC) to { offset, actualOffset }: the offset
  // to subtract, and the offset in force at the resulting instant (they differ in a gap).
  resolveExactly(localMs) {
    const before = this.offsetAt(localMs - DAY_MS);
    const after = this.offsetAt(localMs + DAY_MS);
    const beforeValid = this.offsetAt(localMs - before) === before;
    const afterValid = this.offsetAt(localMs - after) === after;
    if (beforeValid && afterValid) {
      const offset = Math.max(before, after); // The larger offset gives the earlier instant.
      return { offset, actualOffset: offset };
    }
    if (beforeValid) return { offset: before, actualOffset: before };
    if (afterValid) return { offset: after, actualOffset: after };
    return { offset: before, actualOffset: this.offsetAt(localMs - before) };
  }

  // Returns { offset, actualOffset } for a local time given as ms as if it were UTC.
  resolve(localMs) {
    const hour = Math.floor(localMs / HOUR_MS);
    let cached = this.hours.get(hour);
    if (cached === undefined) {
      const start = hour * HOUR_MS;
      const before = this.offsetAt(start - DAY_MS);
      const after = this.offsetAt(start + HOUR_MS + DAY_MS);
      cached = before === after ? { offset: before, actualOffset: before } : new Map();
      this.hours.set(hour, cached);
    }
    if (!(cached instanceof Map)) return cached;

    const minute = Math.floor(localMs / MINUTE_MS);
    let resolution = cached.get(minute);
    if (resolution === undefined) {
      resolution = this.resolveExactly(minute * MINUTE_MS);
      cached.set(minute, resolution);
    }
    return resolution;
  }
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

function formatOffset(offsetMs) {
  if (offsetMs === 0) return 'Z';
  const minutes = Math.abs(offsetMs) / MINUTE_MS;
  return `${offsetMs < 0 ? '-' : '+'}${TWO_DIGITS[Math.floor(minutes / 60)]}:${TWO_DIGITS[minutes % 60]}`;
}

// UTC hour number → "YYYY-MM-DDTHH:", so that most rows skip Date formatting.
const utcHourPrefixes = new Map();
const MAX_CACHED_HOURS = 100_000;

// Formats an instant as RFC 3339 without fractional seconds, such as 2024-03-31T01:30:00Z.
function formatUtc(instantMs) {
  const hour = Math.floor(instantMs / HOUR_MS);
  let prefix = utcHourPrefixes.get(hour);
  if (prefix === undefined) {
    if (utcHourPrefixes.size >= MAX_CACHED_HOURS) utcHourPrefixes.clear();
    prefix = new Date(hour * HOUR_MS).toISOString().slice(0, 14);
    utcHourPrefixes.set(hour, prefix);
  }
  const seconds = Math.floor((instantMs - hour * HOUR_MS) / 1000);
  return `${prefix}${TWO_DIGITS[Math.floor(seconds / 60)]}:${TWO_DIGITS[seconds % 60]}Z`;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year, month) {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1];
}

function digitsAt(text, start, length) {
  let number = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    number = number * 10 + digit;
  }
  return number;
}

// Parses YYYYMMDDHHMMSS in the zone; returns { instant, utc, local } or an error string.
function parseLocalDateTime(value, zone) {
  if (value.length !== 14) return `expected 14 digits, found ${value.length} characters`;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 4, 2);
  const day = digitsAt(value, 6, 2);
  const hour = digitsAt(value, 8, 2);
  const minute = digitsAt(value, 10, 2);
  const second = digitsAt(value, 12, 2);
  if (Math.min(year, month, day, hour, minute, second) < 0) return 'expected only digits';
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return 'not a valid date and time';
  }

  let localMs = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 100) {
    // Date.UTC reads years 0-99 as 1900-1999.
    const date = new Date(localMs);
    date.setUTCFullYear(year);
    localMs = date.getTime();
  }
  const { offset, actualOffset } = zone.resolve(localMs);
  const instant = localMs - offset;
  let localText;
  if (offset === actualOffset) {
    localText = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(8, 10)}:${value.slice(10, 12)}:${value.slice(12, 14)}`;
  } else {
    localText = new Date(instant + actualOffset).toISOString().slice(0, 19);
  }
  const inGap = offset !== actualOffset;
  return { instant, utc: formatUtc(instant), local: localText + formatOffset(actualOffset), inGap };
}

// Resolves the profile's fields against the header; throws on a missing column.
function compileFields(profile, header, sourceName) {
  const columnOf = (name, spec) => {
    const options = typeof spec === 'object' ? Object.keys(spec).filter((key) => key !== 'column' && key !== 'format') : [];
    if (options.length > 0) {
      throw new Error(`fields.${name}: the reference does not support the options ${options.join(', ')}`);
    }
    const column = typeof spec === 'object' ? spec.column : spec;
    const index = typeof column === 'number' ? column : header.indexOf(column);
    if (index < 0) {
      throw new Error(`fields.${name}: column \`${column}\` is not in the header of ${sourceName}; the columns are: ${header.join(', ')}`);
    }
    return index;
  };
  const fields = profile.fields;
  const dateTime = fields.event_datetime;
  const format = typeof dateTime === 'object' ? dateTime.format : undefined;
  if (format !== DATE_TIME_FORMAT) {
    throw new Error(`fields.event_datetime.format: the reference supports only ${DATE_TIME_FORMAT}, not ${format}`);
  }
  const unsupported = Object.keys(fields).filter((name) => name !== 'tracking_number' && name !== 'event_datetime' && !EVENT_FIELDS.includes(name));
  if (unsupported.length > 0) {
    throw new Error(`the reference does not map fields ${unsupported.join(', ')}`);
  }

  const compiled = {
    trackingNumber: columnOf('tracking_number', fields.tracking_number),
    eventDateTime: columnOf('event_datetime', dateTime),
  };
  for (const name of EVENT_FIELDS) {
    compiled[name] = fields[name] === undefined ? -1 : columnOf(name, fields[name]);
  }
  return compiled;
}

// Returns the trimmed field, or null when the column is unmapped or the field is empty.
function fieldAt(record, index) {
  if (index < 0) return null;
  const value = record[index];
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function countFields(record, expected) {
  let count = record.length;
  while (count > expected && record[count - 1].trim() === '') count--;
  return count;
}

function sameEvent(a, b) {
  return a.inGap === b.inGap && a.event.event_code === b.event.event_code && a.event.city === b.event.city &&
    a.event.state === b.event.state && a.event.postal_code === b.event.postal_code && a.event.country === b.event.country;
}

// Builds one ImportedTrackingEvent from a shipment's events, as lib/decode.js shapes it.
function buildItem(trackingNumber, entries, options, counts) {
  entries.sort((a, b) => a.instant - b.instant);
  const kept = [];
  for (const entry of entries) {
    let duplicate = false;
    for (let i = kept.length - 1; i >= 0 && kept[i].instant === entry.instant; i--) {
      if (sameEvent(kept[i], entry)) {
        duplicate = true;
        break;
      }
    }
    if (duplicate) counts.duplicates++;
    else kept.push(entry);
  }

  let latest = kept[kept.length - 1];
  for (let i = kept.length - 1; i >= 0; i--) {
    if (kept[i].event.status_code !== 'UN') {
      latest = kept[i];
      break;
    }
  }
  let delivered = null;
  for (let i = kept.length - 1; i >= 0; i--) {
    if (kept[i].event.status_code === 'DE') {
      delivered = kept[i];
      break;
    }
  }
  const problem = latest.event.status_code === 'EX';

  const warnings = [];
  const events = new Array(kept.length);
  for (let i = 0; i < kept.length; i++) {
    events[i] = kept[i].event;
    for (const warning of kept[i].warnings) {
      if (!warnings.includes(warning)) warnings.push(warning);
    }
  }

  const info = {
    tracking_number: trackingNumber,
    standardized_status_code: latest.event.status_code,
    carrier_status_code: latest.event.event_code,
    carrier_status_description: latest.event.description,
    shipped_datetime: null,
    estimated_delivery_datetime: null,
    actual_delivery_datetime: delivered === null ? null : delivered.event.event_datetime,
    shipping_problem: problem,
    events: null,
  };
  if (options.carrierName !== null) info.carrier_name = options.carrierName;
  if (problem && latest.event.event_code !== null) info.shipping_problem_code = latest.event.event_code;
  if (problem && latest.event.description !== null) info.shipping_problem_description = latest.event.description;
  info.events = events;

  const item = { tracking_info: info, update_method: options.updateMethod };
  if (warnings.length > 0) item.warning_messages = warnings;
  counts.shipments++;
  counts.events += events.length;
  counts.warnings += warnings.length;
  return item;
}

// Reads and splits the first line of the file; returns the trimmed column names.
function readHeader(source, format) {
  const buffer = Buffer.alloc(MAX_HEADER_BYTES);
  const descriptor = fs.openSync(source, 'r');
  let length;
  try {
    length = fs.readSync(descriptor, buffer, 0, buffer.length, 0);
  } finally {
    fs.closeSync(descriptor);
  }
  const end = buffer.subarray(0, length).indexOf(10);
  if (end < 0 && length === buffer.length) {
    throw new Error(`${source}: no line break in the first ${MAX_HEADER_BYTES} bytes; the header row is too long`);
  }
  let text = buffer.toString('utf8', 0, end < 0 ? length : end);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new Error(`${source} has no header row: the file is empty`);
  const [row] = parseSync(text, {
    delimiter: format.delimiter,
    quote: format.quote === undefined ? '"' : format.quote,
    relax_column_count: true,
    relax_quotes: true,
  });
  const header = row.map((name) => name.trim());
  while (header.length > 0 && header[header.length - 1] === '') header.pop();
  return header;
}

// Maps records to events and groups them into items; everything here is synchronous.
class RecordStage {
  constructor(profile, header, source) {
    this.source = source;
    this.fields = compileFields(profile, header, source);
    this.expectedFields = header.length;
    this.zone = new ZoneConverter(profile.time_zone);
    this.timeZone = profile.time_zone;
    const entries = Object.entries(profile.statuses ?? {}).map(([code, entry]) => [
      code,
      typeof entry === 'string' ? { status: entry, description: null } : { status: entry.status, description: entry.description ?? null },
    ]);
    this.statuses = new Map(entries.filter(([code]) => !code.endsWith('*')));
    // Prefix entries such as `N*`, longest first, so that the longest match wins.
    this.prefixes = entries
      .filter(([code]) => code.endsWith('*'))
      .map(([code, entry]) => [code.slice(0, -1), entry])
      .sort((a, b) => b[0].length - a[0].length);
    this.itemOptions = {
      carrierName: profile.carrier_name ?? null,
      updateMethod: profile.update_method ?? 'append',
    };
    this.maxOpen = Math.max(1, profile.grouping?.max_open_shipments ?? 10_000);
    if (profile.grouping?.deduplicate === false) {
      throw new Error('the reference always removes repeated events; grouping.deduplicate false is not supported');
    }
    this.counts = { records: 0, events: 0, shipments: 0, errors: 0, warnings: 0, duplicates: 0, bytes: 0 };
    // Tracking number → events, in first-seen order (a Map keeps insertion order).
    this.open = new Map();
    // Items ready to be yielded, oldest first.
    this.ready = [];
    this.line = 1;
  }

  reject(message) {
    this.counts.errors++;
    this.ready.push({ error_messages: [`${this.source}:${this.line}: ${message}`] });
  }

  // Processes one csv-parse record (an array of field strings).
  onRecord(record) {
    this.line++;
    // Like the addon, a line of only whitespace is no record. csv-parse keeps empty lines
    // here, so `line` stays the file's line number unless a quoted field spans lines.
    if (record.length === 1 && record[0].trim() === '') return;
    this.counts.records++;
    const fields = this.fields;

    const found = countFields(record, this.expectedFields);
    if (found !== this.expectedFields) {
      this.reject(`expected ${this.expectedFields} fields, found ${found}; check the line for a missing or unquoted delimiter. The record was skipped`);
      return;
    }
    const trackingNumber = fieldAt(record, fields.trackingNumber);
    if (trackingNumber === null) {
      this.reject('field tracking_number is empty; the record was skipped');
      return;
    }
    const dateTimeText = fieldAt(record, fields.eventDateTime);
    const stamp = dateTimeText === null ? 'the field is empty' : parseLocalDateTime(dateTimeText, this.zone);
    if (typeof stamp === 'string') {
      this.reject(`tracking number ${trackingNumber}: invalid event_datetime ${JSON.stringify(dateTimeText)} (${stamp}); the record was skipped`);
      return;
    }

    const code = fieldAt(record, fields.event_code);
    let status = 'UN';
    let tableDescription = null;
    const warnings = [];
    if (stamp.inGap) {
      warnings.push(`${this.source}:${this.line}: event_datetime ${JSON.stringify(dateTimeText)} does not exist in the time zone ${this.timeZone}, because the clocks were moved forward then; it was read as ${stamp.local}`);
    }
    if (code !== null) {
      const entry = this.statuses.get(code) ?? this.prefixes.find(([prefix]) => code.startsWith(prefix))?.[1];
      if (entry !== undefined) {
        status = entry.status;
        tableDescription = entry.description;
      } else {
        warnings.push(`${this.source}:${this.line}: carrier status code ${JSON.stringify(code)} is not in the profile's statuses table, so the event has status UN; add the code to statuses`);
      }
    } else if (fields.event_code >= 0) {
      warnings.push(`${this.source}:${this.line}: the carrier status code is empty, so the event has status UN`);
    }

    const event = {
      event_datetime: stamp.utc,
      event_datetime_local: stamp.local,
      event_code: code,
      description: fieldAt(record, fields.description) ?? tableDescription,
      city: fieldAt(record, fields.city),
      state: fieldAt(record, fields.state),
      postal_code: fieldAt(record, fields.postal_code),
      country: fieldAt(record, fields.country),
      company: fieldAt(record, fields.company),
      signer: fieldAt(record, fields.signer),
      status_code: status,
    };
    this.group(trackingNumber, { instant: stamp.instant, inGap: stamp.inGap, event, warnings });
  }

  // Adds an event to its shipment; when a new shipment finds the window full, the oldest
  // shipment becomes an item.
  group(trackingNumber, entry) {
    const events = this.open.get(trackingNumber);
    if (events !== undefined) {
      events.push(entry);
      return;
    }
    if (this.open.size >= this.maxOpen) {
      const [oldest, oldestEvents] = this.open.entries().next().value;
      this.open.delete(oldest);
      this.ready.push(buildItem(oldest, oldestEvents, this.itemOptions, this.counts));
    }
    this.open.set(trackingNumber, [entry]);
  }

  // Turns every open shipment into an item, at the end of the file.
  finish() {
    for (const [trackingNumber, events] of this.open) {
      this.ready.push(buildItem(trackingNumber, events, this.itemOptions, this.counts));
    }
    this.open.clear();
  }
}

// Items waiting to be yielded before the parser is paused.
const MAX_READY_ITEMS = 4096;

// Yields ImportedTrackingEvent objects for a local file, like carrier.ImportTrackingEvents.
//
// Records are mapped and grouped inside csv-parse's 'data' handler, and the generator
// yields the finished items. Reading the parser with `for await` instead made csv-parse
// alone about 15% slower on the benchmark file (10.0-11.6 s against 8.8-9.4 s for
// 1,000,000 rows, three runs each on the 2-core machine of BENCHMARKS.md).
async function* importWithCsvParse(profile, options = {}) {
  const { onSummary } = options;
  const source = options.source ?? profile.source?.path;
  const format = profile.format;
  if (format?.type !== 'delimited' || format.header === false) {
    throw new Error('the reference supports only delimited profiles with a header row');
  }
  const header = readHeader(source, format);
  const stage = new RecordStage(profile, header, source);

  const input = fs.createReadStream(source, { highWaterMark: READ_CHUNK_BYTES });
  const parser = parse({
    delimiter: format.delimiter,
    quote: format.quote === undefined ? '"' : format.quote,
    relax_column_count: true,
    relax_quotes: true,
    from_line: 2,
    bom: true,
  });
  let finished = false;
  let failure = null;
  let wake = null;
  const signal = () => {
    if (wake !== null) {
      wake();
      wake = null;
    }
  };
  parser.on('data', (record) => {
    stage.onRecord(record);
    if (stage.ready.length === 0) return;
    if (stage.ready.length >= MAX_READY_ITEMS) parser.pause();
    signal();
  });
  parser.on('end', () => {
    stage.finish();
    finished = true;
    signal();
  });
  const fail = (error) => {
    failure = error;
    signal();
  };
  parser.on('error', fail);
  input.on('error', fail);
  input.pipe(parser);

  try {
    for (;;) {
      if (failure !== null) throw failure;
      if (stage.ready.length > 0) {
        const items = stage.ready;
        stage.ready = [];
        if (!finished) parser.resume();
        yield* items;
        continue;
      }
      if (finished) break;
      await new Promise((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    input.destroy();
    parser.destroy();
  }
  stage.counts.bytes = input.bytesRead;
  if (onSummary) onSummary({ ...stage.counts });
}

module.exports = { importWithCsvParse, ZoneConverter, parseLocalDateTime };
