'use strict';

// Decodes a batch from the Rust producer into ImportedTrackingEvent objects.
//
// The layout is defined in src/wire.rs: items cross as one string and an Int32Array of
// slots, and a string is two slots (start and end in UTF-16 units, or -1 for null).
// The objects are built here with substring(), so that a batch crosses N-API as one
// string and one Int32Array instead of one N-API call per object and field.
// NOTE: no measurement compares this design with building the objects through N-API.

const UPDATE_METHODS = ['append', 'replace'];

function decodeBatch(text, slots) {
  const items = [];
  const length = slots.length;
  let at = 0;

  // Reads the string at `at` and moves past its two slots.
  function str() {
    const start = slots[at];
    const end = slots[at + 1];
    at += 2;
    return start < 0 ? null : text.substring(start, end);
  }

  function list() {
    const count = slots[at++];
    const values = new Array(count);
    for (let i = 0; i < count; i++) values[i] = str();
    return values;
  }

  while (at < length) {
    const kind = slots[at++];
    if (kind === 1) {
      items.push({ error_messages: list() });
      continue;
    }

    const updateMethod = UPDATE_METHODS[slots[at++]];
    const shippingProblem = slots[at++] === 1;
    const info = {
      tracking_number: str(),
      standardized_status_code: str(),
      carrier_status_code: str(),
      carrier_status_description: str(),
      shipped_datetime: str(),
      estimated_delivery_datetime: str(),
      actual_delivery_datetime: str(),
      shipping_problem: shippingProblem,
      events: null,
    };
    const carrierName = str();
    const serviceCode = str();
    const serviceName = str();
    const packaging = str();
    const problemCode = str();
    const problemDescription = str();
    const weight = str();
    const packageCount = str();
    if (carrierName !== null) info.carrier_name = carrierName;
    if (serviceCode !== null || serviceName !== null) info.service = { code: serviceCode, name: serviceName };
    if (packaging !== null) info.packaging = packaging;
    if (problemCode !== null) info.shipping_problem_code = problemCode;
    if (problemDescription !== null) info.shipping_problem_description = problemDescription;
    if (weight !== null) info.weight = Number(weight);
    if (packageCount !== null) info.package_count = Number(packageCount);

    const eventCount = slots[at++];
    const events = new Array(eventCount);
    for (let i = 0; i < eventCount; i++) {
      const event = {
        event_datetime: str(),
        event_datetime_local: str(),
        event_code: str(),
        description: str(),
        city: str(),
        state: str(),
        postal_code: str(),
        country: str(),
        company: str(),
        signer: str(),
        status_code: str(),
      };
      const latitude = str();
      const longitude = str();
      if (latitude !== null && longitude !== null) {
        event.geo = { lat: Number(latitude), long: Number(longitude) };
      }
      events[i] = event;
    }
    info.events = events;

    const item = { tracking_info: info, update_method: updateMethod };
    const warnings = list();
    if (warnings.length > 0) item.warning_messages = warnings;
    items.push(item);
  }
  return items;
}

module.exports = { decodeBatch };
