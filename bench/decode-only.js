'use strict';

// The JavaScript half of the addon on its own: the native import runs to the end first
// and its batches are kept, then the timed loop only decodes them (lib/decode.js) and
// yields the items, as index.js does. No producer can make the addon faster than this.

const { NativeProfile } = require('../binding.js');
const { decodeBatch } = require('../lib/decode.js');

// Runs the whole import and returns its batches, without decoding them.
async function collectBatches(profile, request, source) {
  const native = new NativeProfile(JSON.stringify(profile));
  const job = native.startImport(JSON.stringify(request), source, null);
  const batches = [];
  for (;;) {
    const batch = await job.next();
    if (batch === null) throw new Error('the native import was closed before its last batch');
    batches.push({ text: batch.text, slots: batch.slots });
    if (batch.end) {
      if (batch.end.error) throw batch.end.error;
      return batches;
    }
  }
}

async function* decodeAndYield(batches) {
  for (const batch of batches) {
    for (const item of decodeBatch(batch.text, batch.slots)) yield item;
  }
}

module.exports = { collectBatches, decodeAndYield };
