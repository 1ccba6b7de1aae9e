'use strict';

// The command line, run as a child process from the repository root. An argument error or
// an unusable metadata file must exit with status 1 and one error line on stderr, before
// anything is imported. Status 0 means that the import ran.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');
const { pathToFileURL } = require('node:url');

const { assertValidItem } = require('./helpers/spec.js');

const ROOT = path.join(__dirname, '..');
const CLI = path.join('bin', 'connect-tracking.js');
const PROFILE = path.join('examples', 'profiles', 'dpd-scaninfo.json');
const DPD_FILE = path.join('__test__', 'fixtures', 'real', 'dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv');
const DPD_PARCELS = 21;
const DPD_BYTES = fs.statSync(path.join(ROOT, DPD_FILE)).size;

// Runs the CLI and resolves with { status, stdout, stderr }, also for a non-zero status.
function runCli(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ status: error ? error.code : 0, stdout, stderr });
    });
  });
}

async function assertFails(args, message) {
  const { status, stdout, stderr } = await runCli(args);
  assert.equal(stderr, `connect-tracking: ${message}\n`);
  assert.equal(status, 1);
  assert.equal(stdout, '');
}

// Writes `text` to the file `name` in a fresh temporary directory and returns its path.
function temporaryFile(t, name, text) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-cli-'));
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  const file = path.join(directory, name);
  fs.writeFileSync(file, text);
  return file;
}

function metadataFile(t, text) {
  return temporaryFile(t, 'metadata.json', text);
}

test.describe('--metadata file that is not an object', () => {
  const cases = [
    { name: 'array', text: '[{"dpd_customer_number":"12345"}]\n', kind: 'an array' },
    { name: 'string', text: '"12345"\n', kind: 'a string' },
    { name: 'number', text: '12345\n', kind: 'a number' },
    { name: 'null', text: 'null\n', kind: 'null' },
  ];
  for (const { name, text, kind } of cases) {
    test(`${name} exits 1`, async (t) => {
      const file = metadataFile(t, text);
      await assertFails(
        ['import', '--profile', PROFILE, '--metadata', file, '--source', DPD_FILE],
        `the metadata file ${file} must contain a JSON object of metadata values, not ${kind}`,
      );
    });
  }
});

test.describe('argument errors', () => {
  test('repeated --source exits 1', async () => {
    await assertFails(
      ['import', '--profile', PROFILE, '--source', DPD_FILE, '--source', 'other.csv'],
      `--source is given more than once (${JSON.stringify(DPD_FILE)} and "other.csv"); pass it once`,
    );
  });

  test('repeated --profile exits 1', async () => {
    await assertFails(
      ['import', '--profile', PROFILE, '--source', DPD_FILE, '--profile', 'other.json'],
      `--profile is given more than once (${JSON.stringify(PROFILE)} and "other.json"); pass it once`,
    );
  });

  test('repeated --metadata exits 1', async (t) => {
    const file = metadataFile(t, '{"dpd_customer_number":"12345"}\n');
    await assertFails(
      ['import', '--profile', PROFILE, '--metadata', file, '--metadata=other.json'],
      `--metadata is given more than once (${JSON.stringify(file)} and "other.json"); pass it once`,
    );
  });

  test('option name as value exits 1', async () => {
    await assertFails(['import', '--source', '--profile', PROFILE], '--source needs a value');
  });

  test('empty --profile value exits 1', async () => {
    await assertFails(['import', '--profile', '', '--source', DPD_FILE], '--profile needs a value');
  });

  test('empty --metadata= value exits 1', async () => {
    await assertFails(['import', '--profile', PROFILE, '--metadata='], '--metadata needs a value');
  });

  test('unknown --name=value option exits 1', async () => {
    await assertFails(['import', '--profile', PROFILE, '--batch-size=10'], 'unknown option --batch-size; run connect-tracking --help');
  });

  test('positional argument exits 1', async () => {
    await assertFails(['import', '--profile', PROFILE, DPD_FILE], `unexpected argument ${JSON.stringify(DPD_FILE)}; run connect-tracking --help`);
  });

  test('missing command exits 1', async () => {
    await assertFails([], 'missing command; run connect-tracking --help');
  });
});

test('--name=value options run the import', async (t) => {
  const file = metadataFile(t, '{"dpd_customer_number":"12345"}\n');
  const { status, stdout, stderr } = await runCli([
    'import',
    `--profile=${PROFILE}`,
    `--metadata=${file}`,
    `--source=${DPD_FILE}`,
  ]);

  assert.equal(status, 0);
  const counts = `records 26, events 26, shipments ${DPD_PARCELS}, errors 0, warnings 0, duplicates 0, bytes ${DPD_BYTES}, replacements 0`;
  assert.match(stderr, new RegExp(`^${counts}, seconds \\d+\\.\\d{3}\\n$`));
  const lines = stdout.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, DPD_PARCELS);
  const items = lines.map((line) => JSON.parse(line));
  for (const item of items) assertValidItem(item);
  assert.equal(items[0].tracking_info.tracking_number, '01865046755363');
});

test('summary counts replacement characters', async (t) => {
  // The receiver name WIZDIK on line 2 becomes WIZ\xe4IK, with the Latin-1 byte for ä,
  // which is not valid UTF-8 and is decoded as one U+FFFD.
  const text = fs.readFileSync(path.join(ROOT, DPD_FILE)).toString('latin1');
  const file = temporaryFile(t, 'latin1.csv', Buffer.from(text.replace('WIZDIK', 'WIZ\u00e4IK'), 'latin1'));
  const { status, stderr } = await runCli(['import', '--profile', PROFILE, '--source', file]);

  assert.equal(status, 0);
  const counts = `records 26, events 26, shipments ${DPD_PARCELS}, errors 0, warnings 1, duplicates 0, bytes ${DPD_BYTES}, replacements 1`;
  assert.match(stderr, new RegExp(`^${counts}, seconds \\d+\\.\\d{3}\\n$`));
});

test.describe('files with a byte order mark', () => {
  test('profile with a BOM runs the import', async (t) => {
    const text = fs.readFileSync(path.join(ROOT, PROFILE), 'utf8');
    const profile = temporaryFile(t, 'profile.json', `\ufeff${text}`);
    const { status, stdout } = await runCli(['import', '--profile', profile, '--source', DPD_FILE]);

    assert.equal(status, 0);
    assert.equal(stdout.split('\n').length - 1, DPD_PARCELS);
  });

  test('metadata file with a BOM is read', async (t) => {
    const file = metadataFile(t, '\ufeff{"dpd_customer_number":"12345"}\n');
    const { status, stdout } = await runCli(['import', '--profile', PROFILE, '--metadata', file, '--source', DPD_FILE]);

    assert.equal(status, 0);
    assert.equal(stdout.split('\n').length - 1, DPD_PARCELS);
  });
});

test.describe('unreadable files', () => {
  test('missing profile names the option', async () => {
    await assertFails(
      ['import', '--profile', 'examples/profiles/missing.json', '--source', DPD_FILE],
      'the profile examples/profiles/missing.json does not exist; check --profile',
    );
  });

  test('metadata directory names the option', async () => {
    await assertFails(
      ['import', '--profile', PROFILE, '--metadata', 'examples', '--source', DPD_FILE],
      'the metadata file examples is a directory, not a file; check --metadata',
    );
  });
});

test.describe('import errors name the CLI options', () => {
  test('missing metadata points to --metadata', async () => {
    const { status, stdout, stderr } = await runCli(['import', '--profile', PROFILE]);

    assert.equal(status, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr.split('\n').at(-2),
      'connect-tracking: import failed (status 400, METADATA_MISSING): source.path uses {metadata.dpd_customer_number}, but the request\'s metadata has no `dpd_customer_number`; add it to the connection\'s settings or change the profile (on the command line, the connection\'s settings are the JSON object in --metadata FILE)',
    );
  });

  test('missing --source file points to --source', async () => {
    const { status, stdout, stderr } = await runCli(['import', '--profile', PROFILE, '--source', 'no-such-scan.csv']);

    assert.equal(status, 1);
    assert.equal(stdout, '');
    const lines = stderr.split('\n');
    assert.equal(lines.length, 3, stderr);
    assert.match(lines[0], /^records 0, events 0, shipments 0, errors 0, warnings 0, duplicates 0, bytes 0, replacements 0, seconds \d+\.\d{3}$/);
    assert.equal(
      lines[1],
      'connect-tracking: import failed (status 400, SOURCE_NOT_FOUND): cannot open no-such-scan.csv: No such file or directory (os error 2); check the source option (--source in the CLI)',
    );
  });

  test('missing file from metadata points to --metadata', async (t) => {
    const metadata = metadataFile(t, '{"dpd_customer_number":"no-such-customer"}');
    const { status, stderr } = await runCli(['import', '--profile', PROFILE, '--metadata', metadata]);

    assert.equal(status, 1);
    assert.equal(
      stderr.split('\n').at(-2),
      'connect-tracking: import failed (status 400, SOURCE_NOT_FOUND): cannot open /var/lib/carrier-files/dpd/no-such-customer/SCANINFO.csv: No such file or directory (os error 2); check source.path and the metadata it uses (check the values in the --metadata file)',
    );
  });

  test('control characters from metadata are escaped', async (t) => {
    const metadata = metadataFile(t, '{"dpd_customer_number":"x\\r\\u001b[2Ky"}');
    const { status, stderr } = await runCli(['import', '--profile', PROFILE, '--metadata', metadata]);

    assert.equal(status, 1);
    const last = stderr.split('\n').at(-2);
    assert.ok(last.includes('cannot open /var/lib/carrier-files/dpd/x\\u000d\\u001b[2Ky/SCANINFO.csv'), last);
    assert.doesNotMatch(stderr, /[\r\u001b]/);
  });

  test('profile syntax error names line and column', async (t) => {
    const file = temporaryFile(t, 'profile.json', '{\n  "time_zone": "UTC",\n  "time_zone": "Europe/Berlin"\n}\n');
    const { status, stderr } = await runCli(['import', '--profile', file, '--source', DPD_FILE]);

    assert.equal(status, 1);
    assert.equal(
      stderr,
      `connect-tracking: invalid carrier profile ${file}: (root): the field \`time_zone\` appears twice at line 3, column 13; keep only one\n`,
    );
  });

  test('invalid profile is one line', async (t) => {
    const profile = JSON.parse(fs.readFileSync(path.join(ROOT, PROFILE), 'utf8'));
    profile.time_zone = 'Mars/Base';
    profile.format.delimiter = ';;';
    const file = temporaryFile(t, 'profile.json', JSON.stringify(profile));
    const { status, stderr } = await runCli(['import', '--profile', file, '--source', DPD_FILE]);

    assert.equal(status, 1);
    assert.equal(stderr.split('\n').length, 2, stderr);
    assert.equal(
      stderr,
      `connect-tracking: invalid carrier profile ${file}, 2 problems: (1) time_zone: \`Mars/Base\` is not an IANA time zone name; use an IANA name such as Europe/Berlin or UTC (2) format.delimiter: \`;;\` is 2 characters, but the delimiter is one character; use one ASCII character other than a line break, such as \`;\`, \`|\`, \`,\` or a tab\n`,
    );
  });
});

test.describe('--source URLs', () => {
  test('file:// URL is read as a path', async () => {
    const source = pathToFileURL(path.join(ROOT, DPD_FILE)).href;
    const { status, stdout } = await runCli(['import', '--profile', PROFILE, '--source', source]);

    assert.equal(status, 0);
    assert.equal(stdout.split('\n').length - 1, DPD_PARCELS);
  });

  test('ftp:// URL exits 1 with OPTION_INVALID', async () => {
    await assertFails(
      ['import', '--profile', PROFILE, '--source', 'ftp://127.0.0.1/SCANINFO.csv'],
      'import failed (status 400, OPTION_INVALID): --source ftp://127.0.0.1/SCANINFO.csv uses ftp:, which is not supported; pass a file path or an http:, https: or file: URL',
    );
  });
});

test.describe('--source errors name --source', () => {
  test('relative file: URL exits 1', async () => {
    await assertFails(
      ['import', '--profile', PROFILE, '--source', 'file:latin1.csv'],
      'import failed (status 400, OPTION_INVALID): --source file:latin1.csv is a file: URL with a relative path, which file: URLs do not allow; write file:///absolute/path or a plain path',
    );
  });

  test('file: without a path exits 1', async () => {
    await assertFails(
      ['import', '--profile', PROFILE, '--source=file:'],
      'import failed (status 400, OPTION_INVALID): --source file: is a file: URL with no path; write file:///absolute/path or a plain path',
    );
  });
});
