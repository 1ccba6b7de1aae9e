#!/usr/bin/env node
'use strict';

// Command-line import: one ImportedTrackingEvent JSON object per line on stdout, a
// summary on stderr. Exit status 0 when the import ran, bad records included.

const path = require('node:path');

const { createCarrier } = require('..');
const { readTextFile, describeReadError } = require('../lib/files.js');

const USAGE = `usage: connect-tracking import --profile FILE [--metadata FILE] [--source PATH_OR_URL]

  --profile FILE         carrier profile (JSON)
  --metadata FILE        JSON object used as the request's metadata, for {metadata.NAME}
                         placeholders in the profile's source
  --source PATH_OR_URL   read this file or http(s) URL instead of the profile's source

Each option may be given once, as --NAME VALUE or --NAME=VALUE.
`;

// Prints the error as one line and exits with status 1. Control characters, which may come
// from metadata values and could rewrite the terminal line, are written as \u escapes.
function fail(message) {
  const oneLine = message
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
  process.stderr.write(`connect-tracking: ${oneLine}\n`);
  process.exit(1);
}

// Advice for the command line, by error code, added to the library's message.
const CLI_ADVICE = {
  METADATA_MISSING: "on the command line, the connection's settings are the JSON object in --metadata FILE",
  METADATA_INVALID: 'fix the value in the --metadata file',
};

// Returns the import error's message for the command line. `usesMetadata` is set when the
// source that was read has {metadata.NAME} placeholders.
function importFailure(error, usesMetadata) {
  const labels = [error.statusCode && `status ${error.statusCode}`, error.code].filter(Boolean);
  const status = labels.length > 0 ? ` (${labels.join(', ')})` : '';
  let advice = CLI_ADVICE[error.code];
  if (!advice && error.code === 'SOURCE_NOT_FOUND' && usesMetadata) {
    advice = 'check the values in the --metadata file';
  }
  return `import failed${status}: ${commandLineMessage(error)}${advice ? ` (${advice})` : ''}`;
}

// Returns the error's message with the library's option name `options.source` replaced
// by --source, which is where the command line passes it.
function commandLineMessage(error) {
  if (error.code === 'OPTION_INVALID' && error.details?.option === 'source') {
    return error.message.replace(/^options\.source\b/, '--source');
  }
  return error.message;
}

// Returns a PROFILE_INVALID error as one line, with its problems numbered.
function profileFailure(file, error) {
  const problems = error.details?.problems;
  if (!Array.isArray(problems)) return `${file}: ${error.message}`;
  if (problems.length === 1) return `invalid carrier profile ${file}: ${problems[0].path}: ${problems[0].message}`;
  const list = problems.map((problem, index) => `(${index + 1}) ${problem.path}: ${problem.message}`).join(' ');
  return `invalid carrier profile ${file}, ${problems.length} problems: ${list}`;
}

const OPTION_NAMES = ['profile', 'metadata', 'source'];

function parseArguments(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (command === undefined) fail('missing command; run connect-tracking --help');
  if (command !== 'import') fail(`unknown command ${JSON.stringify(command)}; run connect-tracking --help`);

  const options = {};
  for (let i = 0; i < rest.length; i++) {
    const argument = rest[i];
    if (argument === '--help' || argument === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (!argument.startsWith('-')) fail(`unexpected argument ${JSON.stringify(argument)}; run connect-tracking --help`);

    // Both `--name value` and `--name=value` are accepted.
    const equals = argument.indexOf('=');
    const flag = equals === -1 ? argument : argument.slice(0, equals);
    const name = flag.slice(2);
    if (!flag.startsWith('--') || !OPTION_NAMES.includes(name)) {
      fail(`unknown option ${flag}; run connect-tracking --help`);
    }
    let value;
    if (equals === -1) {
      value = rest[i + 1];
      // An option name in place of the value means the value was left out.
      if (value !== undefined && !value.startsWith('--')) i += 1;
      else value = undefined;
    } else {
      value = argument.slice(equals + 1);
    }
    if (value === undefined || value === '') fail(`${flag} needs a value`);
    if (Object.hasOwn(options, name)) {
      fail(`${flag} is given more than once (${JSON.stringify(options[name])} and ${JSON.stringify(value)}); pass it once`);
    }
    options[name] = value;
  }
  if (options.profile === undefined) fail('--profile FILE is required');
  return options;
}

// Reads the text file that the option --`option` names; `description` names it in messages.
function readText(file, description, option) {
  try {
    return readTextFile(file);
  } catch (error) {
    fail(`the ${description} ${file} ${describeReadError(error)}; check --${option}`);
  }
}

// Reads the JSON file that the option --`option` names; `description` names it in messages.
function readJson(file, description, option) {
  const text = readText(file, description, option);
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`the ${description} ${file} is not valid JSON: ${error.message}`);
  }
}

// Reads the --metadata file, which must contain one JSON object.
function readMetadata(file) {
  const metadata = readJson(file, 'metadata file', 'metadata');
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    const kind = metadata === null ? 'null' : Array.isArray(metadata) ? 'an array' : `a ${typeof metadata}`;
    fail(`the metadata file ${file} must contain a JSON object of metadata values, not ${kind}`);
  }
  return metadata;
}

// Writes to stdout, waiting when the pipe is full.
function writeLine(text) {
  if (process.stdout.write(text)) return null;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

// Formats the summary line. `replacements` counts the U+FFFD characters written for
// malformed bytes, so a value above 0 points to a wrong encoding in the profile or a
// damaged file.
function formatSummary(summary, seconds) {
  return (
    `records ${summary.records}, events ${summary.events}, shipments ${summary.shipments}, ` +
    `errors ${summary.errors}, warnings ${summary.warnings}, duplicates ${summary.duplicates}, ` +
    `bytes ${summary.bytes}, replacements ${summary.replacements}, seconds ${seconds.toFixed(3)}`
  );
}

async function main() {
  // A closed pipe (as with `| head`) ends the output, not with a stack trace.
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    fail(`cannot write to stdout: ${error.message}`);
  });
  const options = parseArguments(process.argv.slice(2));
  // createCarrier parses the text itself, so that a syntax error or a repeated key is
  // reported with its line and column.
  const profile = readText(options.profile, 'profile', 'profile');
  const metadata = options.metadata === undefined ? {} : readMetadata(options.metadata);

  let carrier;
  try {
    carrier = createCarrier(profile);
  } catch (error) {
    fail(profileFailure(path.resolve(options.profile), error));
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
    // createCarrier accepted the text, so it parses.
    const source = JSON.parse(profile).source;
    const template = source?.path ?? source?.url ?? '';
    const usesMetadata = options.source === undefined && String(template).includes('{metadata.');
    fail(importFailure(error, usesMetadata));
  }

  if (progress) process.stderr.write('\n');
  process.stderr.write(`${formatSummary(summary, seconds())}\n`);
}

main().catch((error) => fail(`unexpected error: ${error?.message ?? error}`));
