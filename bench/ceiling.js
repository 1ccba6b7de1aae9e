'use strict';

// The upper bound for any producer: an async generator that only yields objects built
// before the timing starts. The objects have the shape that lib/decode.js gives a
// shipment item (tracking_info with its events, update_method), so a consumer's
// `for await` loop does the same work per item as with the addon.

const CODES = [
  { code: '05', status: 'AC', description: 'Picked up from the shipper' },
  { code: '20', status: 'IT', description: 'Scanned at a DPD depot' },
  { code: '13', status: 'DE', description: 'Delivered' },
  { code: '18', status: 'UN', description: 'Delivery information recorded' },
];

// Builds `itemCount` shipment items carrying `eventCount` events in all, spread as evenly
// as possible. Tracking numbers and times differ per item; the other strings are shared.
function buildItems(itemCount, eventCount) {
  const items = new Array(itemCount);
  const base = Date.UTC(2024, 2, 20, 5, 0, 0);
  for (let i = 0; i < itemCount; i++) {
    const count = Math.floor(eventCount / itemCount) + (i < eventCount % itemCount ? 1 : 0);
    const events = new Array(count);
    for (let j = 0; j < count; j++) {
      const scan = CODES[j % CODES.length];
      const instant = base + i * 5_000 + j * 3_600_000;
      const utc = new Date(instant).toISOString();
      events[j] = {
        event_datetime: `${utc.slice(0, 19)}Z`,
        event_datetime_local: `${new Date(instant + 3_600_000).toISOString().slice(0, 19)}+01:00`,
        event_code: scan.code,
        description: scan.description,
        city: null,
        state: null,
        postal_code: scan.code === '18' ? null : '6845',
        country: scan.code === '18' ? null : 'AT',
        company: null,
        signer: scan.code === '13' ? 'WIZDIK' : null,
        status_code: scan.status,
      };
    }
    const latest = events[events.length - 1];
    items[i] = {
      tracking_info: {
        tracking_number: `0186${String(5046755363 + i).padStart(10, '0')}`,
        standardized_status_code: latest.status_code,
        carrier_status_code: latest.event_code,
        carrier_status_description: latest.description,
        shipped_datetime: null,
        estimated_delivery_datetime: null,
        actual_delivery_datetime: latest.status_code === 'DE' ? latest.event_datetime : null,
        shipping_problem: false,
        events,
      },
      update_method: 'append',
    };
  }
  return items;
}

// Yields the ready-made items one by one, as an import would.
async function* yieldItems(items) {
  for (const item of items) {
    yield item;
  }
}

module.exports = { buildItems, yieldItems };
