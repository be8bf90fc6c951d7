// Reads .ics files with Mozilla's ical.js (an independent parser) and prints what it
// understood as JSON, one object per file: node icaljs_read.mjs FILE...
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

// UTC offset (seconds) that the file's Europe/London zone gives at noon on the 15th of each
// month, from the year before the event to the year after.
function monthlyOffsets(year) {
  const zone = ICAL.TimezoneService.get("Europe/London");
  if (!zone) return null;
  const offsets = {};
  for (let y = year - 1; y <= year + 1; y++) {
    for (let m = 1; m <= 12; m++) {
      const time = new ICAL.Time({ year: y, month: m, day: 15, hour: 12 }, zone);
      offsets[`${y}-${String(m).padStart(2, "0")}`] = time.utcOffset();
    }
  }
  return offsets;
}

function read(path) {
  const calendar = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
  ICAL.TimezoneService.reset();
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(zone));
  }
  const vevent = calendar.getFirstSubcomponent("vevent");
  const event = new ICAL.Event(vevent);
  const alarm = vevent.getFirstSubcomponent("valarm");
  const attendee = vevent.getFirstProperty("attendee");
  return {
    method: calendar.getFirstPropertyValue("method"),
    timezones: calendar.getAllSubcomponents("vtimezone").map(
      (zone) => zone.getFirstPropertyValue("tzid")),
    uid: event.uid,
    sequence: event.sequence,
    summary: event.summary,
    location: event.location,
    description: event.description,
    status: vevent.getFirstPropertyValue("status"),
    start_utc: event.startDate.toJSDate().toISOString(),
    end_utc: event.endDate.toJSDate().toISOString(),
    start_tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    start_utc_offset_s: event.startDate.utcOffset(),
    duration_s: event.duration.toSeconds(),
    organizer: vevent.getFirstPropertyValue("organizer"),
    attendee: attendee ? attendee.getFirstValue() : null,
    alarm_trigger_s: alarm ? alarm.getFirstPropertyValue("trigger").toSeconds() : null,
    monthly_offsets_s: monthlyOffsets(event.startDate.year),
  };
}

console.log(JSON.stringify(process.argv.slice(2).map(read)));
