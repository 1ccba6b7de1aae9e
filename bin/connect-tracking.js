#!/usr/bin/env node
'use strict';

// Command-line import: one ImportedTrackingEvent JSON object per line on stdout, a
// summary on stderr. Exit status 0 when the import ran, bad records included.

const fs = require('node:fs');
const path = require('node:path');

const { createCarrier } = require('..');

const USAGE = `usage: connect-tracking import --profile FILE [--metadata FILE] [--source PATH_OR_URL]

  --profile FILE         carrier profile (JSON)
  --metadata FILE        JSON object used as the request's metadata, for {metadata.NAME}
                         placeholders in the profile's source
  --source PATH_OR_URL   read this file or http(s) URL instead of the profile's source
`;

function fail(message) {
  process.stderr.write(`connect-tracking: ${message}\n`);
  process.exit(1);
}

function parseArguments(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (command !== 'import') fail(`unknown command ${JSON.stringify(command ?? '')}; run connect-tracking --help`);

  const options = {};
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i];
    if (name === '--help' || name === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (!['--profile', '--metadata', '--source'].includes(name)) fail(`unknown option ${name}; run connect-tracking --help`);
    const value = rest[++i];
    if (value === undefined) fail(`${name} needs a value`);
    options[name.slice(2)] = value;
  }
  if (!options.profile) fail('--profile FILE is required');
  return options;
}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read the ${what} ${file}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`the ${what} ${file} is not valid JSON: ${error.message}`);
  }
}

// Writes to stdout, waiting when the pipe is full.
function writeLine(text) {
  if (process.stdout.write(text)) return null;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

function formatSummary(summary, seconds) {
  return (
    `records ${summary.records}, events ${summary.events}, shipments ${summary.shipments}, ` +
    `errors ${summary.errors}, warnings ${summary.warnings}, duplicates ${summary.duplicates}, ` +
    `bytes ${summary.bytes}, seconds ${seconds.toFixed(3)}`
  );
}

async function main() {
  // A closed pipe (as with `| head`) ends the output, not with a stack trace.
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    fail(`cannot write to stdout: ${error.message}`);
  });
  const options = parseArguments(process.argv.slice(2));
  const profile = readJson(options.profile, 'profile');
  const metadata = options.metadata ? readJson(options.metadata, 'metadata file') : {};

  let carrier;
  try {
    carrier = createCarrier(profile);
  } catch (error) {
    fail(`${path.resolve(options.profile)}: ${error.message}`);
  }

  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const progress = process.stderr.isTTY;
  let items = 0;
  let summary = null;
  const request = { transaction_id: crypto.randomUUID(), metadata };
  const generator = carrier.ImportTrackingEvents(request, {
    source: options.source,
    onSummary: (value) => {
      summary = value;
    },
  });

  try {
    for await (const item of generator) {
      const waiting = writeLine(`${JSON.stringify(item)}\n`);
      if (waiting) await waiting;
      items += 1;
      if (progress && items % 10000 === 0) {
        process.stderr.write(`\r${items} items, ${seconds().toFixed(1)} s`);
      }
    }
  } catch (error) {
    if (progress) process.stderr.write('\n');
    if (summary) process.stderr.write(`${formatSummary(summary, seconds())}\n`);
    const status = error.statusCode ? ` (status ${error.statusCode})` : '';
    fail(`import failed${status}: ${error.message}`);
  }

  if (progress) process.stderr.write('\n');
  process.stderr.write(`${formatSummary(summary, seconds())}\n`);
}

main();
