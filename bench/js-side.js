'use strict';

// Splits the JavaScript side of an import into its two costs: decoding the batches into
// objects (lib/decode.js) and yielding the items through an async generator. The native
// import runs to the end first, so no Rust work is timed.
//
//   node --expose-gc bench/js-side.js [--rows N] [--runs N]
//
// --rows picks the generated file (1,000,000 rows; `npm run bench` makes it), --runs the
// number of rounds (3). Each round prints three times in seconds, with a garbage
// collection before each timing. An untimed pass over all batches comes first.

const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');

const { collectBatches } = require('./decode-only.js');
const { decodeBatch } = require('../lib/decode.js');
const { ensureFile } = require('./generate.js');

const REQUEST = { transaction_id: 'bench-js-side', metadata: {} };

function elapsedSeconds(started) {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function collectGarbage() {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  global.gc();
}

async function* yieldDecoded(batches) {
  for (const batch of batches) {
    for (const item of decodeBatch(batch.text, batch.slots)) yield item;
  }
}

async function* yieldReady(itemLists) {
  for (const items of itemLists) {
    for (const item of items) yield item;
  }
}

async function timeLoop(iterable) {
  collectGarbage();
  const started = process.hrtime.bigint();
  let items = 0;
  for await (const item of iterable) {
    if (item.tracking_info) items++;
  }
  return { seconds: elapsedSeconds(started), items };
}

function timeDecoding(batches) {
  collectGarbage();
  const started = process.hrtime.bigint();
  let items = 0;
  for (const batch of batches) items += decodeBatch(batch.text, batch.slots).length;
  return { seconds: elapsedSeconds(started), items };
}

async function main() {
  const { values } = util.parseArgs({
    options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } },
  });
  const rows = Number(values.rows);
  const runs = Number(values.runs);
  const { file } = await ensureFile(rows);
  const profile = JSON.parse(fs.readFileSync(path.join(__dirname, 'profile.json'), 'utf8'));
  const batches = await collectBatches(profile, REQUEST, file);
  console.log(`${rows.toLocaleString('en-US')} rows, ${batches.length} batches`);
  // One untimed pass, so that the first timing does not include compiling the decoder.
  timeDecoding(batches);

  for (let run = 1; run <= runs; run++) {
    const decoding = timeDecoding(batches);
    const both = await timeLoop(yieldDecoded(batches));
    const ready = batches.map((batch) => decodeBatch(batch.text, batch.slots));
    const yielding = await timeLoop(yieldReady(ready));
    console.log(
      `run ${run}: decode only ${decoding.seconds.toFixed(3)} s, ` +
        `yield decoded items only ${yielding.seconds.toFixed(3)} s, ` +
        `decode and yield ${both.seconds.toFixed(3)} s (${both.items.toLocaleString('en-US')} items)`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
