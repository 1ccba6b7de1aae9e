'use strict';

// `npm run demo`: imports a real DPD SCANINFO file with the bundled DPD profile and prints
// every event and a summary. The first item is also printed as the JSON the platform gets.

const path = require('node:path');

const { createCarrier } = require('..');
const profile = require('./profiles/dpd-scaninfo.json');

const file = path.join(__dirname, '..', '__test__', 'fixtures', 'real', 'dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv');

async function main() {
  const carrier = createCarrier(profile);
  const request = { transaction_id: '00000000-0000-4000-8000-000000000001', metadata: {} };
  let summary = null;
  let first = null;

  console.log(`Importing ${path.relative(process.cwd(), file)} with the profile "${profile.name}"\n`);
  for await (const item of carrier.ImportTrackingEvents(request, { source: file, onSummary: (value) => (summary = value) })) {
    if (item.error_messages) {
      console.log(`bad record: ${item.error_messages.join('; ')}`);
      continue;
    }
    first ??= item;
    const info = item.tracking_info;
    console.log(`${info.tracking_number}  status ${info.standardized_status_code} (${info.carrier_status_code} ${info.carrier_status_description ?? ''})`);
    for (const event of info.events) {
      const place = [event.postal_code, event.country].filter(Boolean).join(' ');
      const signer = event.signer ? `  signed by ${event.signer}` : '';
      console.log(`    ${event.event_datetime}  ${event.status_code}  ${event.event_code} ${event.description ?? ''}  ${place}${signer}`);
    }
  }

  console.log('\nFirst item as ImportedTrackingEvent:');
  console.log(JSON.stringify(first, null, 2));
  console.log(
    `\nSummary: ${summary.records} records, ${summary.events} events, ${summary.shipments} shipments, ` +
      `${summary.errors} bad records, ${summary.warnings} warnings, ${summary.bytes} bytes read`,
  );
}

main().catch((error) => {
  console.error(`demo failed: ${error.message}`);
  process.exit(1);
});
