'use strict';

// Reading of the JSON files that the package and the command line take: the carrier profile
// and the metadata file.

const fs = require('node:fs');

const BYTE_ORDER_MARK = 0xfeff;

// Removes a leading byte order mark (U+FEFF), which Windows editors write at the start of
// UTF-8 files and which JSON parsers reject.
function stripByteOrderMark(text) {
  return text.charCodeAt(0) === BYTE_ORDER_MARK ? text.slice(1) : text;
}

// Reads a UTF-8 text file without its byte order mark. Throws the fs error.
function readTextFile(file) {
  return stripByteOrderMark(fs.readFileSync(file, 'utf8'));
}

// Describes a failed read in plain words, to follow the file's name in a message, as in
// "/app/connect-tracking.json does not exist".
function describeReadError(error) {
  switch (error?.code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'does not exist, because a directory in its path is a file';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    default:
      return `cannot be read (${error?.code ?? error?.message ?? error})`;
  }
}

module.exports = { stripByteOrderMark, readTextFile, describeReadError };
