//! Carrier date-times: strftime-style formats, the feed's time zone, and RFC 3339 output.

use std::cell::Cell;
use std::collections::HashMap;

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// A parsed carrier time: the instant and the local wall-clock offset it was written in.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub timestamp: Timestamp,
    pub local: DateTime,
    pub offset_seconds: i32,
    /// Set when the written local time does not exist in the zone, because the clocks
    /// were moved forward at that time. `local` is then the moved time.
    pub in_gap: bool,
    /// The zone that the value itself named through `%Q`, which replaced the record's zone.
    pub zone_in_value: Option<TimeZone>,
}

impl Stamp {
    /// Formats the instant in UTC, such as `2022-04-29T12:34:47Z`.
    pub fn utc_rfc3339(&self) -> String {
        let mut out = String::with_capacity(24);
        self.write_utc(&mut out);
        out
    }

    /// Formats the local time with its offset, such as `2022-04-29T14:34:47+02:00`.
    pub fn local_rfc3339(&self) -> String {
        let mut out = String::with_capacity(30);
        self.write_local(&mut out);
        out
    }

    /// Appends the instant in UTC, as `utc_rfc3339` returns it.
    pub fn write_utc(&self, out: &mut String) {
        let utc = Offset::UTC.to_datetime(self.timestamp);
        write_datetime(out, utc);
        out.push('Z');
    }

    /// Appends the local time with its offset, as `local_rfc3339` returns it.
    pub fn write_local(&self, out: &mut String) {
        write_datetime(out, self.local);
        if self.offset_seconds == 0 {
            out.push('Z');
            return;
        }
        let sign = if self.offset_seconds < 0 { '-' } else { '+' };
        let minutes = self.offset_seconds.unsigned_abs() / 60;
        out.push(sign);
        push_two(out, minutes / 60);
        out.push(':');
        push_two(out, minutes % 60);
    }
}

fn push_two(out: &mut String, value: u32) {
    out.push(char::from(b'0' + (value / 10 % 10) as u8));
    out.push(char::from(b'0' + (value % 10) as u8));
}

fn write_datetime(out: &mut String, datetime: DateTime) {
    let year = datetime.year();
    if (0..=9999).contains(&year) {
        let year = year as u32;
        push_two(out, year / 100);
        push_two(out, year % 100);
    } else {
        out.push_str(&format!("{year:+07}"));
    }
    out.push('-');
    push_two(out, datetime.month() as u32);
    out.push('-');
    push_two(out, datetime.day() as u32);
    out.push('T');
    push_two(out, datetime.hour() as u32);
    out.push(':');
    push_two(out, datetime.minute() as u32);
    out.push(':');
    push_two(out, datetime.second() as u32);
    let nanos = datetime.subsec_nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
}

/// Checks a format for profile validation by formatting a sample time with it.
pub fn check_format(format: &str) -> Result<(), String> {
    if !format.contains('%') {
        return Err(format!(
            "`{format}` has no % directive, so it matches only that exact text; use directives such as %Y, %m, %d, %H, %M, %S and %z"
        ));
    }
    let sample = jiff::civil::date(2024, 1, 2)
        .at(3, 4, 5, 0)
        .to_zoned(TimeZone::UTC)
        .map_err(|error| error.to_string())?;
    let written = jiff::fmt::strtime::format(format, &sample).map_err(|error| {
        let reason = error.to_string();
        let reason = reason.strip_prefix("strftime formatting failed: ").unwrap_or(&reason).to_string();
        format!("`{format}` is not a valid strftime format ({reason}); use directives such as %Y, %m, %d, %H, %M, %S and %z")
    })?;
    // A format that cannot read back what it writes never parses a value: one without a
    // full date (`%H:%M`), or with a directive that gives no date and time (`%s`, `%Z`).
    parse_with_jiff(format, &written, &TimeZone::UTC, None, None).map(|_| ()).map_err(|reason| {
        format!(
            "`{format}` cannot be read as a date and time: 2024-01-02 03:04:05 UTC written with it is {written:?}, which it does not parse ({reason}); use a format with the year, month and day, such as %Y-%m-%d %H:%M:%S"
        )
    })
}

/// A digits-only format compiled to fixed positions, the common case in carrier files.
#[derive(Debug, Clone)]
struct FixedLayout {
    parts: Vec<LayoutPart>,
    length: usize,
}

#[derive(Debug, Clone, Copy)]
enum LayoutPart {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Literal(u8),
}

impl LayoutPart {
    fn width(self) -> usize {
        match self {
            LayoutPart::Year => 4,
            LayoutPart::Literal(_) => 1,
            _ => 2,
        }
    }
}

fn compile_layout(format: &str) -> Option<FixedLayout> {
    let mut parts = Vec::new();
    let mut bytes = format.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let part = match bytes.next()? {
                b'Y' => LayoutPart::Year,
                b'm' => LayoutPart::Month,
                b'd' => LayoutPart::Day,
                b'H' => LayoutPart::Hour,
                b'M' => LayoutPart::Minute,
                b'S' => LayoutPart::Second,
                _ => return None,
            };
            parts.push(part);
        } else if byte.is_ascii() && !byte.is_ascii_digit() {
            parts.push(LayoutPart::Literal(byte));
        } else {
            return None;
        }
    }
    let has = |wanted: fn(&LayoutPart) -> bool| parts.iter().any(wanted);
    let has_date = has(|part| matches!(part, LayoutPart::Year))
        && has(|part| matches!(part, LayoutPart::Month))
        && has(|part| matches!(part, LayoutPart::Day));
    if !has_date {
        return None;
    }
    let length = parts.iter().map(|part| part.width()).sum();
    Some(FixedLayout { parts, length })
}

impl FixedLayout {
    /// Parses a value of exactly the layout's length; `None` means "try jiff instead".
    fn parse(&self, value: &str) -> Option<Result<DateTime, String>> {
        let bytes = value.as_bytes();
        if bytes.len() != self.length {
            return None;
        }
        let (mut year, mut month, mut day, mut hour, mut minute, mut second) = (0i16, 0i8, 0i8, 0i8, 0i8, 0i8);
        let mut position = 0;
        for part in &self.parts {
            let width = part.width();
            let field = &bytes[position..position + width];
            position += width;
            if let LayoutPart::Literal(expected) = part {
                if field[0] != *expected {
                    return None;
                }
                continue;
            }
            let mut number: i32 = 0;
            for &digit in field {
                if !digit.is_ascii_digit() {
                    return None;
                }
                number = number * 10 + i32::from(digit - b'0');
            }
            match part {
                LayoutPart::Year => year = number as i16,
                LayoutPart::Month => month = number as i8,
                LayoutPart::Day => day = number as i8,
                LayoutPart::Hour => hour = number as i8,
                LayoutPart::Minute => minute = number as i8,
                LayoutPart::Second => second = number as i8,
                LayoutPart::Literal(_) => {}
            }
        }
        // A leap second reads as :59, as jiff's parser reads it for the other formats.
        if second == 60 {
            second = 59;
        }
        Some(DateTime::new(year, month, day, hour, minute, second, 0).map_err(|error| error.to_string()))
    }
}

/// One step of a format, as jiff's parser reads it.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Whitespace in the format, which matches any run of whitespace, also none.
    Space,
    Literal(u8),
    /// A number of at most `width` digits, named `directive` in messages (such as `%H`,
    /// or `%H in %T` for a directive that stands for several numbers).
    Number {
        directive: &'static str,
        width: usize,
        rule: Padding,
        /// Set when a number is next to this one without a separator.
        packed: bool,
    },
    /// The digits of `%f` or `%N`, as many as there are. They make the number before
    /// them packed but have no width of their own.
    Fraction,
    /// A name such as `%b` or `%p`: a run of ASCII letters.
    Letters,
    /// A directive whose length in the value is not known here, such as `%z` or `%Q`.
    /// The check stops there.
    Other,
}

/// The padding a number may have to fill its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Padding {
    /// With zeros (the default): all digits must be there.
    Zeros,
    /// With spaces (`%e`, `%k`, `%l`, or the `_` flag): spaces and digits fill the width.
    Spaces,
    /// Not at all (the `-` flag): the format itself allows a short number.
    None,
}

/// The numbers of a format that follow each other without a separator, as in `%Y%m%d`.
///
/// jiff reads each number up to its width but also accepts fewer digits, so `2024050112000`
/// matches `%Y%m%d%H%M%S` as 12:00:00 with the seconds shifted. Only the full width of each
/// number marks where it ends, so a value that jiff reads with a short packed number is
/// rejected.
#[derive(Debug, Clone)]
struct PackedNumbers {
    steps: Vec<Step>,
}

impl PackedNumbers {
    /// Returns the steps of `format` when it has numbers without a separator between them.
    fn compile(format: &str) -> Option<PackedNumbers> {
        let mut steps = Vec::new();
        let mut rest = format.as_bytes();
        while let Some((&byte, after)) = rest.split_first() {
            rest = after;
            if byte != b'%' {
                steps.push(if byte.is_ascii_whitespace() {
                    Step::Space
                } else {
                    Step::Literal(byte)
                });
                continue;
            }
            // jiff's extensions: flags, then a width, then the directive.
            let flags = rest.iter().take_while(|byte| b"-_0^#".contains(byte)).count();
            let flag = rest[..flags].last().copied();
            rest = &rest[flags..];
            let width_digits = rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
            let width: Option<usize> = std::str::from_utf8(&rest[..width_digits])
                .ok()
                .and_then(|w| w.parse().ok());
            rest = &rest[width_digits..];
            let Some((&directive, after)) = rest.split_first() else {
                steps.push(Step::Other);
                break;
            };
            rest = after;
            match directive {
                b'%' => steps.push(Step::Literal(b'%')),
                b'n' | b't' => steps.push(Step::Space),
                b'F' => push_numbers(
                    &mut steps,
                    &[
                        ("%Y in %F", b'Y', Some(b'-')),
                        ("%m in %F", b'm', Some(b'-')),
                        ("%d in %F", b'd', None),
                    ],
                ),
                b'T' => push_numbers(
                    &mut steps,
                    &[
                        ("%H in %T", b'H', Some(b':')),
                        ("%M in %T", b'M', Some(b':')),
                        ("%S in %T", b'S', None),
                    ],
                ),
                b'R' => push_numbers(&mut steps, &[("%H in %R", b'H', Some(b':')), ("%M in %R", b'M', None)]),
                b'D' => push_numbers(
                    &mut steps,
                    &[
                        ("%m in %D", b'm', Some(b'/')),
                        ("%d in %D", b'd', Some(b'/')),
                        ("%y in %D", b'y', None),
                    ],
                ),
                b'f' | b'N' => steps.push(Step::Fraction),
                b'a' | b'A' | b'b' | b'B' | b'h' | b'p' | b'P' => steps.push(Step::Letters),
                _ => match number_directive(directive) {
                    Some((name, default_width, default_rule)) => {
                        let rule = match flag {
                            Some(b'-') => Padding::None,
                            Some(b'_') => Padding::Spaces,
                            Some(b'0') => Padding::Zeros,
                            _ => default_rule,
                        };
                        steps.push(Step::Number {
                            directive: name,
                            width: width.unwrap_or(0).max(default_width),
                            rule,
                            packed: false,
                        });
                    }
                    None => steps.push(Step::Other),
                },
            }
        }

        let is_digits = |step: &Step| matches!(step, Step::Number { .. } | Step::Fraction);
        for index in 1..steps.len() {
            if is_digits(&steps[index - 1]) && is_digits(&steps[index]) {
                for step in &mut steps[index - 1..=index] {
                    if let Step::Number { packed, .. } = step {
                        *packed = true;
                    }
                }
            }
        }
        let has_packed = steps
            .iter()
            .any(|step| matches!(step, Step::Number { packed: true, rule, .. } if *rule != Padding::None));
        has_packed.then_some(PackedNumbers { steps })
    }

    /// Walks `value` as jiff reads it and rejects a packed number with fewer digits than
    /// its width. Where the walk cannot follow the format, it accepts what jiff accepted.
    fn check(&self, value: &str) -> Result<(), String> {
        let bytes = value.as_bytes();
        let mut at = 0;
        let count =
            |at: usize, wanted: fn(&u8) -> bool| bytes[at.min(bytes.len())..].iter().take_while(|b| wanted(b)).count();
        for step in &self.steps {
            match *step {
                Step::Space => at += count(at, u8::is_ascii_whitespace),
                Step::Literal(expected) if bytes.get(at) == Some(&expected) => at += 1,
                Step::Literal(_) | Step::Other => return Ok(()),
                Step::Letters => at += count(at, u8::is_ascii_alphabetic),
                Step::Fraction => at += count(at, u8::is_ascii_digit),
                Step::Number {
                    directive,
                    width,
                    rule,
                    packed,
                } => {
                    let start = at;
                    // jiff reads the sign of a year before the spaces in front of a number.
                    if directive == "%Y" && matches!(bytes.get(at), Some(b'+' | b'-')) {
                        at += 1;
                    }
                    let spaces = count(at, u8::is_ascii_whitespace);
                    at += spaces;
                    let digits = count(at, u8::is_ascii_digit).min(width);
                    let filled = match rule {
                        Padding::Zeros => digits,
                        Padding::Spaces => (spaces + digits).min(width),
                        Padding::None => width,
                    };
                    if packed && filled < width {
                        let read = String::from_utf8_lossy(&bytes[start..at + digits]);
                        let found = match digits {
                            0 => "no digits".to_string(),
                            1 => format!("1 digit, `{}`,", read.trim()),
                            _ => format!("{digits} digits, `{}`,", read.trim()),
                        };
                        return Err(format!(
                            "{directive} found {found} where it needs {width}: it has no separator next to it, so a short number cannot be told from a missing digit; the value is probably cut short or damaged"
                        ));
                    }
                    if digits == 0 {
                        return Ok(());
                    }
                    at += digits;
                }
            }
        }
        Ok(())
    }
}

/// Adds the steps of a directive that stands for several numbers, such as `%T`: each
/// number, named for messages, with the separator after it.
fn push_numbers(steps: &mut Vec<Step>, parts: &[(&'static str, u8, Option<u8>)]) {
    for &(directive, part, separator) in parts {
        let (_, width, rule) = number_directive(part).expect("the parts are numbers");
        steps.push(Step::Number {
            directive,
            width,
            rule,
            packed: false,
        });
        if let Some(separator) = separator {
            steps.push(Step::Literal(separator));
        }
    }
}

/// Returns the name, the width and the padding of a numeric directive, or `None` for the
/// others.
fn number_directive(directive: u8) -> Option<(&'static str, usize, Padding)> {
    let (name, width, rule) = match directive {
        b'Y' => ("%Y", 4, Padding::Zeros),
        b'j' => ("%j", 3, Padding::Zeros),
        b'y' => ("%y", 2, Padding::Zeros),
        b'm' => ("%m", 2, Padding::Zeros),
        b'd' => ("%d", 2, Padding::Zeros),
        b'H' => ("%H", 2, Padding::Zeros),
        b'I' => ("%I", 2, Padding::Zeros),
        b'M' => ("%M", 2, Padding::Zeros),
        b'S' => ("%S", 2, Padding::Zeros),
        b'e' => ("%e", 2, Padding::Spaces),
        b'k' => ("%k", 2, Padding::Spaces),
        b'l' => ("%l", 2, Padding::Spaces),
        _ => return None,
    };
    Some((name, width, rule))
}

/// Parses one date-time field with the formats of the profile, tried in order.
#[derive(Debug, Clone)]
pub struct TimeParser {
    formats: Vec<(String, Option<FixedLayout>, Option<PackedNumbers>)>,
}

impl TimeParser {
    pub fn new(formats: &[String]) -> TimeParser {
        TimeParser {
            formats: formats
                .iter()
                .map(|format| (format.clone(), compile_layout(format), PackedNumbers::compile(format)))
                .collect(),
        }
    }

    /// Lists the formats for error messages.
    pub fn describe(&self) -> String {
        self.formats
            .iter()
            .map(|(format, _, _)| format.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// Parses `value`; a value without its own offset is local time in `zone`, and
    /// `cache`, when given, belongs to `zone`. With several formats, the error names each
    /// format with its own reason.
    pub fn parse(&self, value: &str, zone: &TimeZone, cache: Option<&OffsetCache>) -> Result<Stamp, String> {
        let mut errors = Vec::new();
        for (format, layout, packed) in &self.formats {
            let result = match layout.as_ref().and_then(|layout| layout.parse(value)) {
                Some(Ok(local)) => in_zone_cached(local, zone, cache),
                Some(Err(error)) => Err(error),
                None => parse_with_jiff(format, value, zone, cache, packed.as_ref()),
            };
            match result.and_then(check_years) {
                Ok(stamp) => return Ok(stamp),
                Err(error) => errors.push((format, error)),
            }
        }
        if let [(_, error)] = errors.as_slice() {
            return Err(error.clone());
        }
        let reasons: Vec<String> = errors
            .iter()
            .map(|(format, error)| format!("{format}: {error}"))
            .collect();
        Err(reasons.join("; "))
    }
}

/// Parses `value` with jiff. When `packed` is given, it checks the numbers of `format` that
/// have no separator before the time is converted, so that its message comes first.
fn parse_with_jiff(
    format: &str,
    value: &str,
    zone: &TimeZone,
    cache: Option<&OffsetCache>,
    packed: Option<&PackedNumbers>,
) -> Result<Stamp, String> {
    let broken = jiff::fmt::strtime::parse(format, value).map_err(|error| error.to_string())?;
    if let Some(packed) = packed {
        packed.check(value)?;
    }
    let local = broken.to_datetime().map_err(|error| error.to_string())?;
    match broken.offset() {
        Some(offset) => {
            check_offset(offset.seconds())?;
            let timestamp = offset
                .to_timestamp(local)
                .map_err(|error| conversion_failed(local, &error))?;
            Ok(Stamp {
                timestamp,
                local,
                offset_seconds: offset.seconds(),
                in_gap: false,
                zone_in_value: None,
            })
        }
        // `%Q` read an IANA name; a `%Q` offset is returned by `offset()` above.
        None => match broken.iana_time_zone() {
            Some(name) => {
                let named = parse_zone(name)?;
                let stamp = in_zone(local, &named)?;
                Ok(Stamp {
                    zone_in_value: Some(named),
                    ..stamp
                })
            }
            None => in_zone_cached(local, zone, cache),
        },
    }
}

/// Describes a local time that cannot become a timestamp. jiff's timestamps end at
/// 9999-12-30T22:00:00Z, so late times in the year 9999 fail here.
fn conversion_failed(local: DateTime, error: &jiff::Error) -> String {
    if local.year() >= 9999 {
        "the time is after 9999-12-30T22:00:00Z, the latest time that can be converted to UTC".to_string()
    } else {
        error.to_string()
    }
}

/// Accepts stamps whose local and UTC years RFC 3339 can write with four digits, leaving
/// out year 0, which no carrier means.
fn check_years(stamp: Stamp) -> Result<Stamp, String> {
    let utc_year = Offset::UTC.to_datetime(stamp.timestamp).year();
    for year in [stamp.local.year(), utc_year] {
        if !(1..=9999).contains(&year) {
            return Err(format!("the year {year} is outside 1 to 9999"));
        }
    }
    Ok(stamp)
}

/// Accepts offsets that RFC 3339 can write: whole minutes, less than 24 hours.
fn check_offset(seconds: i32) -> Result<(), String> {
    if seconds.unsigned_abs() >= 24 * 3600 {
        return Err("the UTC offset is 24 hours or more".to_string());
    }
    if seconds % 60 != 0 {
        return Err("the UTC offset has seconds, which RFC 3339 cannot write".to_string());
    }
    Ok(())
}

/// Resolves a local time in a zone. In a gap the time moves forward by the gap's length,
/// and in a fold the earlier instant wins (jiff's "compatible" strategy).
fn in_zone(local: DateTime, zone: &TimeZone) -> Result<Stamp, String> {
    let ambiguous = zone.to_ambiguous_timestamp(local);
    let in_gap = matches!(ambiguous.offset(), AmbiguousOffset::Gap { .. });
    let timestamp = ambiguous
        .compatible()
        .map_err(|error| conversion_failed(local, &error))?;
    let offset = zone.to_offset(timestamp);
    check_offset(offset.seconds())?;
    Ok(Stamp {
        timestamp,
        local: offset.to_datetime(timestamp),
        offset_seconds: offset.seconds(),
        in_gap,
        zone_in_value: None,
    })
}

/// A stretch of time in which a zone keeps one offset, narrowed at both ends by more than
/// any change of offset can move a local time. Every local time whose instant with that
/// offset falls inside exists exactly once in the zone, so it converts with that offset.
/// `offset_cache_agrees_with_the_zone` compares this with direct conversion.
///
/// Offsets lie within ±26 hours, so a transition at instant `t` makes local times
/// ambiguous or missing only between `t + offset - 52 h` and `t + offset + 52 h`. Hence
/// the stretch runs from 52 hours after the previous transition to 52 hours before the next.
#[derive(Debug, Clone, Copy)]
struct OffsetSpan {
    start: Timestamp,
    end: Timestamp,
    offset: Offset,
}

const SPAN_MARGIN: SignedDuration = SignedDuration::from_hours(52);

/// The offset span of the last time converted in one zone. A feed's times are mostly
/// close together, so most of them fall into the span of the time before and skip the
/// search through the zone's transitions.
#[derive(Debug, Default)]
pub struct OffsetCache {
    span: Cell<Option<OffsetSpan>>,
}

impl OffsetCache {
    /// Converts `local` with the cached offset, if its instant lies inside the span.
    fn convert(&self, local: DateTime) -> Option<Stamp> {
        let span = self.span.get()?;
        let timestamp = span.offset.to_timestamp(local).ok()?;
        (span.start <= timestamp && timestamp < span.end).then_some(Stamp {
            timestamp,
            local,
            offset_seconds: span.offset.seconds(),
            in_gap: false,
            zone_in_value: None,
        })
    }

    /// Remembers the span of `zone` around `timestamp`.
    fn remember(&self, zone: &TimeZone, timestamp: Timestamp) {
        let offset = zone.to_offset(timestamp);
        // The transition at or before the instant, and the first one after it.
        let just_after = timestamp.checked_add(SignedDuration::from_nanos(1)).ok();
        let previous = just_after
            .and_then(|after| zone.preceding(after).next())
            .map(|t| t.timestamp());
        let next = zone.following(timestamp).next().map(|t| t.timestamp());
        let start = match previous {
            Some(transition) => transition.checked_add(SPAN_MARGIN).ok(),
            None => Some(Timestamp::MIN),
        };
        let end = match next {
            Some(transition) => transition.checked_sub(SPAN_MARGIN).ok(),
            None => Some(Timestamp::MAX),
        };
        let span = match (start, end) {
            (Some(start), Some(end)) if start < end => Some(OffsetSpan { start, end, offset }),
            _ => None,
        };
        self.span.set(span);
    }
}

/// `in_zone` through `cache`, which belongs to `zone`.
fn in_zone_cached(local: DateTime, zone: &TimeZone, cache: Option<&OffsetCache>) -> Result<Stamp, String> {
    let Some(cache) = cache else {
        return in_zone(local, zone);
    };
    if let Some(stamp) = cache.convert(local) {
        return Ok(stamp);
    }
    let stamp = in_zone(local, zone)?;
    cache.remember(zone, stamp.timestamp);
    Ok(stamp)
}

/// Parses per-record zone values (IANA names or offsets) and caches them.
#[derive(Default)]
pub struct ZoneCache {
    zones: HashMap<String, TimeZone>,
}

impl ZoneCache {
    /// Accepts `Europe/Berlin`, `UTC`, `Z`, `+02:00`, `+0200`, `-05` and the like.
    pub fn get(&mut self, value: &str) -> Result<TimeZone, String> {
        if let Some(zone) = self.zones.get(value) {
            return Ok(zone.clone());
        }
        let zone = parse_zone(value)?;
        if self.zones.len() < 1024 {
            self.zones.insert(value.to_string(), zone.clone());
        }
        Ok(zone)
    }
}

/// Names in the time zone database that are not the time zone of a place. `localtime` and
/// `posixrules` are links to zones chosen when the database was built (zic -l and -p), and
/// `Factory` means that no time zone was set.
pub const NOT_PLACE_ZONES: [&str; 3] = ["localtime", "posixrules", "Factory"];

pub fn parse_zone(value: &str) -> Result<TimeZone, String> {
    if value.eq_ignore_ascii_case("z") {
        return Ok(TimeZone::UTC);
    }
    if let Some(rest) = value.strip_prefix(['+', '-']) {
        let invalid = || format!("`{value}` is not a UTC offset such as +02:00, +0200 or +02");
        // The forms are HH, HHMM and HH:MM, with hours 00 to 23 and minutes 00 to 59.
        if !rest.is_ascii() {
            return Err(invalid());
        }
        let (hours, minutes) = match rest.len() {
            2 => (rest, "00"),
            4 => rest.split_at(2),
            5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
            _ => return Err(invalid()),
        };
        if !(hours.bytes().chain(minutes.bytes()).all(|b| b.is_ascii_digit())) {
            return Err(invalid());
        }
        let hours: i32 = hours.parse().map_err(|_| invalid())?;
        let minutes: i32 = minutes.parse().map_err(|_| invalid())?;
        if hours > 23 || minutes > 59 {
            return Err(format!(
                "`{value}` is not a valid UTC offset: hours must be 00 to 23 and minutes 00 to 59"
            ));
        }
        let sign = if value.starts_with('-') { -1 } else { 1 };
        let offset = Offset::from_seconds(sign * (hours * 3600 + minutes * 60))
            .map_err(|error| format!("`{value}` is not a valid UTC offset: {error}"))?;
        return Ok(TimeZone::fixed(offset));
    }
    if NOT_PLACE_ZONES.iter().any(|name| name.eq_ignore_ascii_case(value)) {
        return Err(format!(
            "`{value}` is not the time zone of a place; use an IANA name such as Europe/Berlin or a UTC offset"
        ));
    }
    TimeZone::get(value).map_err(|_| format!("`{value}` is neither an IANA time zone name nor a UTC offset"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    #[test]
    fn fixed_layout_in_summer_time() {
        let parser = TimeParser::new(&["%Y%m%d%H%M%S".to_string()]);
        let stamp = parser.parse("20220429143447", &berlin(), None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2022-04-29T12:34:47Z");
        assert_eq!(stamp.local_rfc3339(), "2022-04-29T14:34:47+02:00");
    }

    #[test]
    fn jiff_fallback_agrees_with_fixed_layout() {
        let stamp = parse_with_jiff("%Y-%m-%d %H:%M:%S", "2020-11-03 03:00:53", &berlin(), None, None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2020-11-03T02:00:53Z");
        assert_eq!(stamp.local_rfc3339(), "2020-11-03T03:00:53+01:00");
    }

    #[test]
    fn invalid_calendar_date_is_an_error() {
        let parser = TimeParser::new(&["%Y%m%d%H%M%S".to_string()]);
        assert!(parser.parse("20220431120000", &berlin(), None).is_err());
        assert!(parser.parse("2022043112000", &berlin(), None).is_err());
    }

    #[test]
    fn second_format_takes_date_only_values() {
        let parser = TimeParser::new(&["%d%m%Y %H%M".to_string(), "%d%m%Y".to_string()]);
        let stamp = parser
            .parse("12052021", &TimeZone::get("Europe/Rome").unwrap(), None)
            .unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2021-05-11T22:00:00Z");
        let stamp = parser
            .parse("12052021 0957", &TimeZone::get("Europe/Rome").unwrap(), None)
            .unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2021-05-12T07:57:00Z");
    }

    #[test]
    fn explicit_offset_wins_over_zone() {
        let parser = TimeParser::new(&["%Y-%m-%dT%H:%M:%S%:z".to_string()]);
        let stamp = parser.parse("2022-04-29T14:34:47-05:00", &berlin(), None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2022-04-29T19:34:47Z");
        assert_eq!(stamp.local_rfc3339(), "2022-04-29T14:34:47-05:00");
    }

    #[test]
    fn leap_second_reads_as_59_in_both_parsers() {
        let packed = TimeParser::new(&["%Y%m%d%H%M%S".to_string()]);
        let stamp = packed.parse("20161231235960", &TimeZone::UTC, None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2016-12-31T23:59:59Z");
        let stamp = parse_with_jiff("%Y-%m-%d %H:%M:%S", "2016-12-31 23:59:60", &TimeZone::UTC, None, None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2016-12-31T23:59:59Z");
        assert!(packed.parse("20161231235961", &TimeZone::UTC, None).is_err());
    }

    #[test]
    fn month_names_abbreviated_and_full() {
        let short = TimeParser::new(&["%d %b %Y".to_string()]);
        let full = TimeParser::new(&["%d %B %Y".to_string()]);
        for value in ["01 Jan 2024", "01 jan 2024", "01 JAN 2024"] {
            assert_eq!(
                short.parse(value, &TimeZone::UTC, None).unwrap().utc_rfc3339(),
                "2024-01-01T00:00:00Z",
                "{value}"
            );
        }
        for value in ["01 January 2024", "01 JANUARY 2024"] {
            assert_eq!(
                full.parse(value, &TimeZone::UTC, None).unwrap().utc_rfc3339(),
                "2024-01-01T00:00:00Z",
                "{value}"
            );
        }
        assert!(short.parse("01 January 2024", &TimeZone::UTC, None).is_err());
        assert!(full.parse("01 Jan 2024", &TimeZone::UTC, None).is_err());
    }

    #[test]
    fn zone_name_in_value_wins() {
        let parser = TimeParser::new(&["%Y-%m-%d %H:%M:%S %Q".to_string()]);
        let stamp = parser
            .parse("2024-01-02 03:04:05 America/New_York", &TimeZone::UTC, None)
            .unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2024-01-02T08:04:05Z");
        assert_eq!(stamp.local_rfc3339(), "2024-01-02T03:04:05-05:00");
        let stamp = parser.parse("2024-01-02 03:04:05 +0530", &TimeZone::UTC, None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2024-01-01T21:34:05Z");
        let gap = parser
            .parse("2024-03-10 02:30:00 America/New_York", &TimeZone::UTC, None)
            .unwrap();
        assert!(gap.in_gap);
        assert_eq!(
            gap.zone_in_value.as_ref().and_then(TimeZone::iana_name),
            Some("America/New_York")
        );
        assert_eq!(gap.utc_rfc3339(), "2024-03-10T07:30:00Z");
        let error = parser
            .parse("2024-01-02 03:04:05 Mars/Base", &TimeZone::UTC, None)
            .unwrap_err();
        assert!(error.contains("Mars/Base"), "{error}");
    }

    #[test]
    fn gap_in_spring_resolves_forward() {
        let parser = TimeParser::new(&["%Y%m%d%H%M%S".to_string()]);
        let stamp = parser.parse("20220327023000", &berlin(), None).unwrap();
        assert_eq!(stamp.utc_rfc3339(), "2022-03-27T01:30:00Z");
    }

    #[test]
    fn years_outside_four_digits_are_errors() {
        let dashed = TimeParser::new(&["%Y-%m-%d %H:%M".to_string()]);
        assert_eq!(
            dashed.parse("-001-01-02 10:00", &TimeZone::UTC, None).unwrap_err(),
            "the year -1 is outside 1 to 9999"
        );
        let packed = TimeParser::new(&["%Y%m%d%H%M%S".to_string()]);
        assert_eq!(
            packed.parse("00000102100000", &TimeZone::UTC, None).unwrap_err(),
            "the year 0 is outside 1 to 9999"
        );
        // Local year 1 at UTC+01:00 is year 0 in UTC half an hour earlier.
        let east = TimeZone::fixed(Offset::constant(1));
        assert_eq!(
            packed.parse("00010101003000", &east, None).unwrap_err(),
            "the year 0 is outside 1 to 9999"
        );
        assert_eq!(
            packed
                .parse("99991230120000", &TimeZone::UTC, None)
                .unwrap()
                .utc_rfc3339(),
            "9999-12-30T12:00:00Z"
        );
        assert_eq!(
            packed.parse("99991231235959", &TimeZone::UTC, None).unwrap_err(),
            "the time is after 9999-12-30T22:00:00Z, the latest time that can be converted to UTC"
        );
    }

    #[test]
    fn every_format_gives_its_reason() {
        let parser = TimeParser::new(&["%Y-%m-%d %H:%M:%S".to_string(), "%Y-%m-%d %H:%M".to_string()]);
        let error = parser.parse("2024-02-30 12:00", &berlin(), None).unwrap_err();
        let (first, second) = error.split_once("; %Y-%m-%d %H:%M: ").expect(&error);
        assert!(first.starts_with("%Y-%m-%d %H:%M:%S: "), "{error}");
        assert!(second.contains("day"), "{error}");
    }

    #[test]
    fn unknown_directive_message() {
        assert_eq!(
            check_format("%Y-%K").unwrap_err(),
            "`%Y-%K` is not a valid strftime format (found unrecognized specifier directive `K`); use directives such as %Y, %m, %d, %H, %M, %S and %z"
        );
        assert!(check_format("%d.%m.%Y %H:%M").is_ok());
        assert!(check_format("%d.%m.%Y").is_ok());
        assert!(check_format("%y%j %I:%M %p").is_ok());
        assert_eq!(
            check_format("%H:%M").unwrap_err(),
            "`%H:%M` cannot be read as a date and time: 2024-01-02 03:04:05 UTC written with it is \"03:04\", which it does not parse (date required to parse datetime: year required to parse date); use a format with the year, month and day, such as %Y-%m-%d %H:%M:%S"
        );
        assert!(check_format("%s")
            .unwrap_err()
            .starts_with("`%s` cannot be read as a date and time"));
        assert!(check_format("%Y-%m-%d %H:%M %Z")
            .unwrap_err()
            .starts_with("`%Y-%m-%d %H:%M %Z` cannot be read as a date and time"));
        assert!(check_format("").unwrap_err().starts_with("`` has no % directive"));
        assert!(check_format("abc").unwrap_err().starts_with("`abc` has no % directive"));
    }

    /// Converts `local` through `cache` and directly, and checks that both agree.
    fn check_cached(local: DateTime, zone: &TimeZone, cache: &OffsetCache) {
        let direct = in_zone(local, zone);
        let cached = in_zone_cached(local, zone, Some(cache));
        match (direct, cached) {
            (Ok(direct), Ok(cached)) => assert_eq!(
                (direct.timestamp, direct.local, direct.offset_seconds, direct.in_gap),
                (cached.timestamp, cached.local, cached.offset_seconds, cached.in_gap),
                "{local} in {:?}",
                zone.iana_name()
            ),
            (Err(direct), Err(cached)) => assert_eq!(direct, cached),
            (direct, cached) => panic!("{local}: {direct:?} directly, {cached:?} through the cache"),
        }
    }

    #[test]
    fn offset_cache_agrees_with_the_zone() {
        // Zones with one-hour, half-hour and no daylight saving shifts, a zone that skipped
        // a whole day (Apia, 2011-12-30), and one whose rules changed (Sao Paulo, 2019).
        let names = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Pacific/Apia",
            "America/Sao_Paulo",
            "Asia/Kolkata",
            "UTC",
        ];
        for name in names {
            let zone = TimeZone::get(name).unwrap();
            let cache = OffsetCache::default();

            // Every 7 minutes through two years, forward and then backward.
            let start = DateTime::new(2011, 1, 1, 0, 0, 0, 0).unwrap();
            let step = SignedDuration::from_mins(7);
            let steps = 2 * 366 * 24 * 60 / 7;
            let mut local = start;
            for _ in 0..steps {
                check_cached(local, &zone, &cache);
                local = local.checked_add(step).unwrap();
            }
            for _ in 0..steps {
                local = local.checked_sub(step).unwrap();
                check_cached(local, &zone, &cache);
            }

            // Jumps between far apart times, from 1900 to 2100.
            let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
            for _ in 0..20_000 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let seconds = (seed >> 33) as i64 % (200 * 365 * 86_400);
                let local = DateTime::new(1900, 1, 1, 0, 0, 0, 0)
                    .unwrap()
                    .checked_add(SignedDuration::from_secs(seconds))
                    .unwrap();
                check_cached(local, &zone, &cache);
            }
        }
    }

    #[test]
    fn offset_cache_serves_nearby_times() {
        let zone = berlin();
        let cache = OffsetCache::default();
        let first = DateTime::new(2024, 3, 20, 8, 0, 0, 0).unwrap();
        in_zone_cached(first, &zone, Some(&cache)).unwrap();

        // The next scan, an hour later, is converted from the cache alone.
        let next = cache.convert(DateTime::new(2024, 3, 20, 9, 0, 0, 0).unwrap()).unwrap();
        assert_eq!(next.utc_rfc3339(), "2024-03-20T08:00:00Z");
        // Within 52 hours of the switch to summer time (2024-03-31 01:00 UTC), it is not.
        assert!(cache.convert(DateTime::new(2024, 3, 29, 2, 0, 0, 0).unwrap()).is_none());
    }

    /// Parses `value` in UTC with one format and returns the instant as RFC 3339.
    fn parse_utc(format: &str, value: &str) -> Result<String, String> {
        TimeParser::new(&[format.to_string()])
            .parse(value, &TimeZone::UTC, None)
            .map(|stamp| stamp.utc_rfc3339())
    }

    #[test]
    fn packed_numbers_need_full_width() {
        assert_eq!(
            parse_utc("%Y%m%d%H%M%S", "2024050112000").unwrap_err(),
            "%S found 1 digit, `0`, where it needs 2: it has no separator next to it, so a short number cannot be told from a missing digit; the value is probably cut short or damaged"
        );
        assert!(parse_utc("%Y%m%d%H%M%S", "202405011200000").is_err());
        assert!(parse_utc("%Y%m%d", "2024051").is_err());
        assert!(parse_utc("%Y%j%H%M", "2024051200")
            .unwrap_err()
            .starts_with("%M found 1 digit, `0`,"));
        assert!(parse_utc("%Y%m%d%H%M%S%.f", "2024050112000.25")
            .unwrap_err()
            .starts_with("%S found 1 digit"));
        assert!(parse_utc("%d%m%y%H%M", "010524123")
            .unwrap_err()
            .starts_with("%M found 1 digit"));
        assert!(parse_utc("%Y%m%d", "2024050\u{ff11}").is_err());

        // Numbers after a name or a flag are checked too.
        assert!(parse_utc("%b%d%Y", "May12024")
            .unwrap_err()
            .starts_with("%Y found 3 digits, `024`,"));
        assert!(parse_utc("%d%b%Y %H%M", "01May2024 123")
            .unwrap_err()
            .starts_with("%M found 1 digit"));
        assert!(parse_utc("%-d.%m%Y", "1.05202")
            .unwrap_err()
            .starts_with("%Y found 3 digits"));

        // A directive that stands for several numbers is named with them.
        assert!(parse_utc("%Y%m%d%R", "202405019:05")
            .unwrap_err()
            .starts_with("%H in %R found 1 digit, `9`,"));

        // The width is checked before the time is converted, so its message comes first.
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let parser = TimeParser::new(&["%d%m%Y".to_string()]);
        assert!(parser
            .parse("120521", &rome, None)
            .unwrap_err()
            .starts_with("%Y found 2 digits, `21`,"));
    }

    #[test]
    fn packed_numbers_allow_what_separates_them() {
        // A space in a format matches any run of whitespace, also none.
        assert_eq!(
            parse_utc("%Y%m%d %H%M%S", "20240501  123000").unwrap(),
            "2024-05-01T12:30:00Z"
        );
        assert_eq!(
            parse_utc("%Y%m%d %H%M", "20240501\t 1230").unwrap(),
            "2024-05-01T12:30:00Z"
        );
        assert_eq!(
            parse_utc("%Y%m%d %H%M%S", "20240501123000").unwrap(),
            "2024-05-01T12:30:00Z"
        );

        // A number between separators may drop its leading zero.
        assert_eq!(
            parse_utc("%Y%m%d %H:%M", "20240501 9:05").unwrap(),
            "2024-05-01T09:05:00Z"
        );
        assert_eq!(
            parse_utc("%Y-%m-%d %H:%M", "2024-5-1 9:05").unwrap(),
            "2024-05-01T09:05:00Z"
        );
        assert_eq!(
            parse_utc("%Y%m%d%H%M%S%.f", "20240501120000.25").unwrap(),
            "2024-05-01T12:00:00.25Z"
        );
        assert_eq!(parse_utc("%Y%j%H%M", "20240521200").unwrap(), "2024-02-21T12:00:00Z");
        assert_eq!(parse_utc("%d%b%Y", "1May2024").unwrap(), "2024-05-01T00:00:00Z");
        assert_eq!(
            parse_utc("%FT%T", "2024-05-01T12:00:00").unwrap(),
            "2024-05-01T12:00:00Z"
        );

        // jiff reads a year's sign before the spaces in front of its digits.
        assert_eq!(parse_utc("%Y%m%d", "+ 20240501").unwrap(), "2024-05-01T00:00:00Z");

        // %e, %k and %l pad with a space, which counts toward the width.
        assert_eq!(parse_utc("%Y%m%e", "202405 1").unwrap(), "2024-05-01T00:00:00Z");
        assert_eq!(
            parse_utc("%Y%m%d%k:%M", "20240501 9:05").unwrap(),
            "2024-05-01T09:05:00Z"
        );

        // The `-` flag allows a short number.
        assert_eq!(parse_utc("%Y%m%-d", "2024051").unwrap(), "2024-05-01T00:00:00Z");

        // Digits of %f right after %S make %S need both of its digits.
        assert_eq!(
            parse_utc("%Y%m%d%H%M%S%f", "202405011230512").unwrap(),
            "2024-05-01T12:30:51.2Z"
        );
        assert_eq!(
            parse_utc("%d%b%Y %H%M", "01May2024 1230").unwrap(),
            "2024-05-01T12:30:00Z"
        );
    }

    #[test]
    fn gap_is_flagged_and_fold_is_not() {
        let parser = TimeParser::new(&["%Y%m%d%H%M%S".to_string()]);
        assert!(parser.parse("20240331023000", &berlin(), None).unwrap().in_gap);
        assert!(!parser.parse("20240331033000", &berlin(), None).unwrap().in_gap);
        assert!(!parser.parse("20241027023000", &berlin(), None).unwrap().in_gap);
    }

    #[test]
    fn written_offset_of_a_day_is_rejected() {
        let parser = TimeParser::new(&["%Y-%m-%d %H:%M %z".to_string()]);
        assert!(parser.parse("2024-01-02 10:00 +2400", &berlin(), None).is_err());
        assert!(parser.parse("2024-01-02 10:00 -2530", &berlin(), None).is_err());
        assert_eq!(
            parser
                .parse("2024-01-02 10:00 +2330", &berlin(), None)
                .unwrap()
                .offset_seconds,
            84600
        );
    }

    #[test]
    fn zone_values() {
        let mut cache = ZoneCache::default();
        assert_eq!(
            cache.get("+0530").unwrap().to_offset(Timestamp::UNIX_EPOCH).seconds(),
            19800
        );
        assert_eq!(
            cache.get("-05:00").unwrap().to_offset(Timestamp::UNIX_EPOCH).seconds(),
            -18000
        );
        assert!(cache.get("America/Chicago").is_ok());
        assert!(cache.get("Mars/Base").is_err());
        assert!(cache.get("+5").is_err());
        assert_eq!(
            cache.get("-23:59").unwrap().to_offset(Timestamp::UNIX_EPOCH).seconds(),
            -86340
        );
        for invalid in [
            "+1é1",
            "-é",
            "+01:é",
            "+24:00",
            "+2500",
            "-2400",
            "+0099",
            "+0:30:0",
            "+02:",
            "+02:3",
            "+0a",
            "localtime",
            "Factory",
        ] {
            assert!(cache.get(invalid).is_err(), "{invalid}");
        }
    }
}
