'use strict';

// Profile validation messages: each names the JSON path, the bad key or value and the
// fix, in plain words, and createCarrier throws them as 400 PROFILE_INVALID.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const { createCarrier } = require('..');

function validProfile() {
  return {
    source: { path: '/nonexistent/scans.csv' },
    time_zone: 'Europe/Berlin',
    format: { type: 'delimited', delimiter: ';' },
    fields: {
      tracking_number: 'PARCELNO',
      event_datetime: { column: 'SCAN_DATE', format: '%Y%m%d' },
    },
  };
}

// Returns a valid profile with `change(profile)` applied.
function changed(change) {
  const profile = validProfile();
  change(profile);
  return profile;
}

// Calls createCarrier and returns what it throws.
function profileError(profile) {
  try {
    createCarrier(profile);
  } catch (error) {
    return error;
  }
  assert.fail('createCarrier accepted an invalid profile');
}

// Checks the error shape and returns the only problem.
function onlyProblem(profile) {
  const error = profileError(profile);
  assert.ok(error instanceof Error, String(error));
  assert.equal(error.statusCode, 400);
  assert.equal(error.isIntentional, true);
  assert.equal(error.code, 'PROFILE_INVALID');
  assert.equal(error.details.code, 'PROFILE_INVALID');
  assert.equal(error.details.problems.length, 1, JSON.stringify(error.details.problems));
  const [problem] = error.details.problems;
  assert.ok(error.message.includes(`${problem.path}: ${problem.message}`), error.message);
  return problem;
}

const NOT_A_COLUMN = 'is not a column; use a column name (text) or a 0-based column index (whole number >= 0)';
const STATUSES = 'use one of UN, AC, IT, DE, EX, AT, NY, SP';
const TIMEOUT_RANGE = 'must be a number of seconds from 0.001 to 86400 (one day), not';
const IANA_ADVICE = 'use an IANA name such as Europe/Berlin or UTC';

const cases = [
  {
    name: 'misspelled nested key',
    profile: changed((p) => (p.fields.event_datetime.fromat = '%Y')),
    path: 'fields.event_datetime.fromat',
    message:
      'unknown field `fromat`; expected one of `column`, `columns`, `separator`, `value`, `default`, `trim`, `format`, `formats`',
  },
  {
    name: 'negative column index',
    profile: changed((p) => (p.fields.tracking_number = -1)),
    path: 'fields.tracking_number',
    message: `-1 ${NOT_A_COLUMN}`,
  },
  {
    name: 'fractional column index',
    profile: changed((p) => (p.fields.tracking_number = 1.5)),
    path: 'fields.tracking_number',
    message: `1.5 ${NOT_A_COLUMN}`,
  },
  {
    name: 'negative index in columns',
    profile: changed((p) => (p.fields.city = { columns: ['CITY', -2] })),
    path: 'fields.city.columns[1]',
    message: `-2 ${NOT_A_COLUMN}`,
  },
  {
    name: 'trim as text',
    profile: changed((p) => (p.fields.city = { column: 'CITY', trim: 'yes' })),
    path: 'fields.city.trim',
    message: 'must be true or false, not the text `yes`',
  },
  {
    name: 'unknown status code',
    profile: changed((p) => (p.statuses = { 1: 'XX' })),
    path: 'statuses.1',
    message: `\`XX\` is not a Connect status; ${STATUSES}`,
  },
  {
    name: 'lower-case status code',
    profile: changed((p) => (p.statuses = { 1: 'de' })),
    path: 'statuses.1',
    message: `\`de\` is not a Connect status; ${STATUSES}; the codes are upper case`,
  },
  {
    name: 'unknown status in object entry',
    profile: changed((p) => (p.statuses = { 'N*': { status: 'XX', description: 'Not delivered' } })),
    path: 'statuses.N*.status',
    message: `\`XX\` is not a Connect status; ${STATUSES}`,
  },
  {
    name: 'array as profile',
    profile: [],
    path: '(root)',
    message: 'the profile must be a JSON object, not a list',
  },
  {
    name: 'number as profile',
    profile: 42,
    path: '(root)',
    message: 'the profile must be a JSON object, not 42',
  },
  {
    name: 'negative skip_lines',
    profile: changed((p) => (p.format.skip_lines = -1)),
    path: 'format.skip_lines',
    message: 'must be a whole number >= 0, not -1',
  },
  {
    name: 'too large max_open_shipments',
    profile: changed((p) => (p.grouping = { max_open_shipments: 1e21 })),
    path: 'grouping.max_open_shipments',
    message: 'must be a whole number from 1 to 18446744073709551615, not 1e21',
  },
  {
    name: 'negative max_open_shipments',
    profile: changed((p) => (p.grouping = { max_open_shipments: -1 })),
    path: 'grouping.max_open_shipments',
    message: 'must be a whole number >= 1, not -1',
  },
  {
    name: 'missing required field',
    profile: changed((p) => delete p.fields.tracking_number),
    path: 'fields',
    message: 'the required field `tracking_number` is missing; add it',
  },
  {
    name: 'delimiter as number',
    profile: changed((p) => (p.format.delimiter = 59)),
    path: 'format.delimiter',
    message: 'must be text, not 59',
  },
  {
    name: 'unknown update_method',
    profile: changed((p) => (p.update_method = 'merge')),
    path: 'update_method',
    message: '`merge` is not allowed; use one of `append`, `replace`',
  },
  {
    name: 'unknown format type',
    profile: changed((p) => (p.format.type = 'json')),
    path: 'format.type',
    message: '`json` is not allowed; use one of `delimited`, `fixed-width`',
  },
  {
    name: 'fixed-width range of three numbers',
    profile: changed((p) => (p.format = { type: 'fixed-width', columns: { PARCELNO: [0, 14, 20], SCAN_DATE: [14, 22] } })),
    path: 'format.columns.PARCELNO',
    message: 'must be a range [start, end] of 0-based character positions, such as [0, 20], not a list of 3 items',
  },
  {
    name: 'huge read timeout',
    profile: changed((p) => (p.source.read_timeout_seconds = 1e300)),
    path: 'source.read_timeout_seconds',
    message: `${TIMEOUT_RANGE} 1e300`,
  },
  {
    name: 'connect timeout that rounds to zero',
    profile: changed((p) => (p.source.connect_timeout_seconds = 1e-12)),
    path: 'source.connect_timeout_seconds',
    message: `${TIMEOUT_RANGE} 1e-12`,
  },
  {
    name: 'time zone localtime',
    profile: changed((p) => (p.time_zone = 'localtime')),
    path: 'time_zone',
    message: `\`localtime\` is not the time zone of a place; ${IANA_ADVICE}`,
  },
  {
    name: 'time zone Factory',
    profile: changed((p) => (p.time_zone = 'Factory')),
    path: 'time_zone',
    message: `\`Factory\` is not the time zone of a place; ${IANA_ADVICE}`,
  },
  {
    name: 'time zone posixrules',
    profile: changed((p) => (p.time_zone = 'posixrules')),
    path: 'time_zone',
    message: `\`posixrules\` is not the time zone of a place; ${IANA_ADVICE}`,
  },
  {
    name: 'incomplete JSON text',
    profile: '{"a":',
    path: '(root)',
    message: 'the profile is not valid JSON: the text ends before a value is complete at line 1, column 5',
  },
  {
    name: 'JSON syntax error on a later line',
    profile: '{\n  "time_zone": "UTC"\n  "format": {}\n}',
    path: '(root)',
    message: 'the profile is not valid JSON: expected `,` or `}` at line 3, column 3',
  },
  {
    name: 'empty JSON text',
    profile: '',
    path: '(root)',
    message: 'the profile is empty; pass a JSON object',
  },
  {
    name: 'repeated key in JSON text',
    profile: '{"source": {"path": "/a"}, "source": {"path": "/b"}}',
    path: '(root)',
    message: 'the field `source` appears twice at line 1, column 35; keep only one',
  },
];

test.describe('profile validation messages', () => {
  for (const { name, profile, path: problemPath, message } of cases) {
    test(name, () => {
      const problem = onlyProblem(profile);

      assert.equal(problem.path, problemPath);
      assert.equal(problem.message, message);
    });
  }

  test('no message mentions serde or Rust types', () => {
    for (const { profile } of cases) {
      const { message } = onlyProblem(profile);
      assert.doesNotMatch(message, /untagged|variant|usize|struct|FieldSpec|StatusEntry/, message);
    }
  });

  test('type errors carry no text position', () => {
    for (const { profile } of cases.filter((entry) => typeof entry.profile !== 'string')) {
      const { message } = onlyProblem(profile);
      assert.doesNotMatch(message, /line \d/, message);
    }
  });

  for (const label of ['replacement', 'iso-2022-kr', 'x-user-defined']) {
    test(`encoding ${label} is rejected`, () => {
      const problem = onlyProblem(changed((p) => (p.encoding = label)));

      assert.equal(problem.path, 'encoding');
      assert.ok(problem.message.startsWith(`\`${label}\` names `), problem.message);
      assert.ok(problem.message.includes('; use one of UTF-8, UTF-16LE, UTF-16BE, windows-1250, '), problem.message);
      assert.ok(problem.message.endsWith('Big5 (labels are not case-sensitive, and utf-16 means UTF-16LE)'), problem.message);
    });
  }

  test('text encodings are accepted', () => {
    for (const label of ['utf-8', 'utf-16', 'UTF-16BE', 'iso-8859-1', 'iso-2022-jp']) {
      createCarrier(changed((p) => (p.encoding = label)));
    }
  });

  test('timeout limits are accepted', () => {
    for (const seconds of [0.001, 86400]) {
      createCarrier(
        changed((p) => {
          p.source.connect_timeout_seconds = seconds;
          p.source.read_timeout_seconds = seconds;
        }),
      );
    }
  });
});

test.describe('large limits', () => {
  let directory;
  test.before(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-tracking-profile-'));
  });
  test.after(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  // Imports `text` with `profile` and returns the items.
  async function importText(profile, text) {
    const file = path.join(directory, 'scans.txt');
    fs.writeFileSync(file, text);
    const items = [];
    for await (const item of createCarrier(profile).ImportTrackingEvents({}, { source: file })) {
      items.push(item);
    }
    return items;
  }

  test('huge window and range end import a small file', async () => {
    const profile = {
      source: { path: '/nonexistent/scans.txt' },
      time_zone: 'UTC',
      format: { type: 'fixed-width', columns: { TN: [0, 4], TS: [4, 1e15] } },
      fields: { tracking_number: 'TN', event_datetime: { column: 'TS', format: '%Y%m%d' } },
      grouping: { max_open_shipments: 1e12 },
    };

    const items = await importText(profile, 'A00120240105\nA00220240106\n');

    assert.deepEqual(
      items.map((item) => item.tracking_info?.tracking_number),
      ['A001', 'A002'],
    );
  });

  test('huge column index reads an empty field', async () => {
    const profile = {
      source: { path: '/nonexistent/scans.txt' },
      time_zone: 'UTC',
      format: { type: 'delimited', delimiter: ';', header: false },
      fields: { tracking_number: 0, event_datetime: { column: 1, format: '%Y%m%d' }, city: 1e12 },
    };

    const items = await importText(profile, 'A001;20240105\n');

    assert.equal(items.length, 1);
    assert.equal(items[0].tracking_info?.tracking_number, 'A001');
  });
});

test('fixed width without columns', () => {
  const error = profileError(changed((p) => (p.format = { type: 'fixed-width', columns: {} })));
  assert.deepEqual(error.details.problems, [
    { path: 'format.columns', message: 'name at least one column range' },
    { path: 'fields.tracking_number', message: 'column `PARCELNO` is not defined, because format.columns is empty; add its range there' },
    { path: 'fields.event_datetime.column', message: 'column `SCAN_DATE` is not defined, because format.columns is empty; add its range there' },
  ]);
});

test('values that can never work', async (t) => {
  const cases = [
    ['empty source path', (p) => (p.source.path = ''), 'source.path', 'is empty; give the path of the carrier\'s file'],
    ['empty column name', (p) => (p.fields.tracking_number = ''), 'fields.tracking_number', 'the column name is empty; give a column name or a 0-based column index'],
    ['constant tracking number', (p) => (p.fields.tracking_number = { value: 'A1' }), 'fields.tracking_number.value', 'a constant tracking number would put every record into one shipment; map the tracking number from a column'],
    ['format without directives', (p) => (p.fields.event_datetime.format = 'abc'), 'fields.event_datetime.format', '`abc` has no % directive, so it matches only that exact text; use directives such as %Y, %m, %d, %H, %M, %S and %z'],
    ['header with a line break', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', headers: { 'X-Api-Key': 'a\nX-Other: b' } };
    }, 'source.headers.X-Api-Key', 'contains a line break, which an HTTP header value cannot hold; remove it'],
    ['header with a control character', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', headers: { 'X-Api-Key': 'a\u007fb' } };
    }, 'source.headers.X-Api-Key', 'contains a control character, which an HTTP header value cannot hold; remove it'],
    ['invalid header name', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', headers: { 'X Api Key': 'abc' } };
    }, 'source.headers["X Api Key"]', '`X Api Key` is not a valid HTTP header name; use letters, digits and `-`'],
    ['colon in basic_auth username', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', basic_auth: { username: 'depot:163', password: 'x' } };
    }, 'source.basic_auth.username', 'contains `:`, which Basic authentication uses to separate the user name from the password (RFC 7617); remove it'],
    ['control character in basic_auth password', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', basic_auth: { username: 'depot', password: 'secret\n' } };
    }, 'source.basic_auth.password', 'contains a control character (a line break, for example), which is not part of any credential; remove it'],
    ['control character in basic_auth username', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', basic_auth: { username: 'dep\u0000ot', password: 'x' } };
    }, 'source.basic_auth.username', 'contains a control character (a line break, for example), which is not part of any credential; remove it'],
    ['empty header name', (p) => {
      p.source = { url: 'http://127.0.0.1:9/scans.csv', headers: { '': 'abc' } };
    }, 'source.headers[""]', 'a header name is empty; give the name, such as X-Api-Key'],
    ...['Connection', 'content-length', 'Keep-Alive', 'te', 'Trailer', 'Transfer-Encoding', 'Upgrade'].map((name) => [
      `framing header ${name}`,
      (p) => (p.source = { url: 'http://127.0.0.1:9/scans.csv', headers: { [name]: '5' } }),
      `source.headers.${name}`,
      `\`${name}\` is set by the HTTP client, because it frames the message or the connection; remove it`,
    ]),
    ['ca_file with a placeholder', (p) => (p.source = { url: 'https://127.0.0.1:9/scans.csv', ca_file: '/etc/{metadata.account}.pem' }), 'source.ca_file', 'placeholders are not filled in source.ca_file, because the certificates a connection trusts belong to the app; give a fixed path'],
    ['empty ca_file', (p) => (p.source = { url: 'https://127.0.0.1:9/scans.csv', ca_file: ' ' }), 'source.ca_file', 'is empty; give the path of a PEM file of CA certificates, or remove it'],
    ['line feed delimiter', (p) => (p.format.delimiter = '\n'), 'format.delimiter', 'a line break cannot be the delimiter; use one ASCII character other than a line break, such as `;`, `|`, `,` or a tab'],
    ['carriage return delimiter', (p) => (p.format.delimiter = '\r'), 'format.delimiter', 'a line break cannot be the delimiter; use one ASCII character other than a line break, such as `;`, `|`, `,` or a tab'],
    ['non-ASCII delimiter', (p) => (p.format.delimiter = '§'), 'format.delimiter', '`§` is not an ASCII character, so it cannot be the delimiter; use one ASCII character other than a line break, such as `;`, `|`, `,` or a tab'],
    ['two-character delimiter', (p) => (p.format.delimiter = ';;'), 'format.delimiter', '`;;` is 2 characters, but the delimiter is one character; use one ASCII character other than a line break, such as `;`, `|`, `,` or a tab'],
    ['line feed quote', (p) => (p.format.quote = '\n'), 'format.quote', 'a line break cannot be the quote; use one ASCII character other than a line break, such as `"`, or null to turn quoting off'],
    ['catch-all status', (p) => (p.statuses = { '*': 'DE' }), 'statuses.*', '`*` alone would match every code; map the codes one by one or by a prefix such as `N*`, because unmapped codes give UN with a warning that names them'],
    ['bad format in formats', (p) => (p.fields.event_datetime = { column: 'SCAN_DATE', formats: ['%Y%m%d', 'abc'] }), 'fields.event_datetime.formats[1]', '`abc` has no % directive, so it matches only that exact text; use directives such as %Y, %m, %d, %H, %M, %S and %z'],
  ];
  for (const [name, change, expectedPath, expectedMessage] of cases) {
    await t.test(name, () => {
      const problem = onlyProblem(changed(change));
      assert.equal(problem.path, expectedPath);
      assert.equal(problem.message, expectedMessage);
    });
  }
});

test('key paths agree between JS and Rust', () => {
  // A status of 5 is rejected by the Rust reader and NaN by the JavaScript check, so each
  // key's path is written once by each side.
  const cases = [
    ['N1', 'statuses.N1'],
    ['*', 'statuses.*'],
    ['Zustellung-ä', 'statuses.Zustellung-ä'],
    ['', 'statuses[""]'],
    ['N 1', 'statuses["N 1"]'],
    ['a.b', 'statuses["a.b"]'],
    ['say "hi"', 'statuses["say \\"hi\\""]'],
    ['back\\slash', 'statuses["back\\\\slash"]'],
    ['a\u0085b', 'statuses["a\\u0085b"]'],
    ['a\u00a0b', 'statuses["a\\u00a0b"]'],
    ['a\ufeffb', 'statuses["a\\ufeffb"]'],
    ['a\u202eb', 'statuses["a\\u202eb"]'],
    ['a\u200bb', 'statuses["a\\u200bb"]'],
    ['a\u0001b', 'statuses["a\\u0001b"]'],
    ['a\u{e0001}b', 'statuses["a\\udb40\\udc01b"]'],
    ['€', 'statuses["\\u20ac"]'],
    ['A\u3164B', 'statuses["A\\u3164B"]'],
  ];
  for (const [key, expected] of cases) {
    for (const value of [5, NaN]) {
      const error = profileError(changed((p) => (p.statuses = { [key]: value })));
      assert.equal(error.details.problems[0].path, expected, `${JSON.stringify(key)} with ${value}`);
    }
  }
});
