//! `{metadata.NAME}` placeholders in source paths, URLs and headers.
//!
//! Each value is escaped for where it stands: percent-encoded in a URL path or query,
//! checked against host name characters in a URL authority, and refused when it could
//! change a file path's directory or split an HTTP header.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::error::FatalError;

/// Everything but RFC 3986 unreserved characters is encoded, in paths and queries alike.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Where a template is used, which decides how a value is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    FilePath,
    Url,
    Header,
    /// `source.basic_auth.username`: the header rules, and no `:`, which separates the
    /// user name from the password in Basic authentication (RFC 7617).
    BasicAuthUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlPart {
    Authority,
    PathOrQuery,
}

/// A parsed template piece: literal text or a metadata name.
enum Piece<'a> {
    Literal(&'a str),
    Metadata(&'a str),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        pieces.push(Piece::Literal(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("`{{` at `{}` is never closed; write {{metadata.NAME}}", &rest[open..]))?;
        let inner = &after[..close];
        let name = inner
            .strip_prefix("metadata.")
            .ok_or_else(|| format!("placeholder `{{{inner}}}` is not supported; write {{metadata.NAME}}"))?;
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
        if !valid {
            return Err(format!(
                "placeholder `{{{inner}}}` has an invalid name; use letters, digits, `_` and `-`"
            ));
        }
        pieces.push(Piece::Metadata(name));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("`}}` in `{template}` has no matching `{{`"));
    }
    pieces.push(Piece::Literal(rest));
    Ok(pieces)
}

/// Checks placeholder syntax, for profile validation.
pub fn check_syntax(template: &str) -> Result<(), String> {
    pieces(template).map(|_| ())
}

/// Replaces every placeholder by `0`, or by `::` right after a `[` where an IPv6 address
/// goes, so that the rest of a URL (ports included) can be checked.
pub fn replace_for_check(template: &str) -> String {
    let Ok(pieces) = pieces(template) else {
        return template.to_string();
    };
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Metadata(_) if out.ends_with('[') => out.push_str("::"),
            Piece::Metadata(_) => out.push('0'),
        }
    }
    out
}

/// Fills a template from the request's metadata; `what` names it in messages.
pub fn fill(
    template: &str,
    metadata: &Map<String, Value>,
    position: Position,
    what: &str,
) -> Result<String, FatalError> {
    let pieces =
        pieces(template).map_err(|message| FatalError::bad_request("PROFILE_INVALID", format!("{what}: {message}")))?;

    let mut out = String::with_capacity(template.len());
    // Where metadata values went in a URL, so that an error names the value that broke it.
    // For the authority this is whether the value is in the port, and for the path it is
    // the index of the segment.
    let mut authority_names: Vec<(&str, bool)> = Vec::new();
    let mut path_names: Vec<(&str, usize)> = Vec::new();
    let userinfo_end = userinfo_end(template);
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Metadata(name) => {
                let value = metadata_value(metadata, name, what)?;
                // `name` points into `template`, so this is the placeholder's offset there.
                let offset = name.as_ptr() as usize - template.as_ptr() as usize;
                match position {
                    Position::FilePath => out.push_str(&escape_path(&value, name, what)?),
                    Position::Header => out.push_str(&escape_header(&value, name, what)?),
                    Position::BasicAuthUser if value.contains(':') => {
                        return Err(invalid_value(
                            name,
                            what,
                            "a Basic authentication user name must not contain `:`, which separates it from the password",
                        ));
                    }
                    Position::BasicAuthUser => out.push_str(&escape_header(&value, name, what)?),
                    Position::Url if userinfo_end.is_some_and(|(_, end)| offset < end) => {
                        // Basic authentication joins user and password with `:`, so a user
                        // name cannot contain one, even percent-encoded.
                        let in_user = userinfo_end.is_some_and(|(user_end, _)| offset < user_end);
                        if in_user && value.contains(':') {
                            return Err(invalid_value(
                                name,
                                what,
                                "a user name in the URL must not contain `:`, which separates it from the password",
                            ));
                        }
                        // Percent-encoding keeps `:` and `@` in a value from moving the
                        // split between user, password and host.
                        out.extend(utf8_percent_encode(&value, COMPONENT));
                    }
                    Position::Url => match url_part(&out) {
                        UrlPart::Authority => {
                            authority_names.push((name, in_port(&out)));
                            out.push_str(&escape_authority(&value, name, what)?);
                        }
                        UrlPart::PathOrQuery => {
                            if !out.contains(['?', '#']) {
                                path_names.push((name, url_segments(&out).count() - 1));
                            }
                            out.extend(utf8_percent_encode(&value, COMPONENT));
                        }
                    },
                }
            }
        }
    }
    if !path_names.is_empty() {
        check_dot_segments(&out, what, &path_names)?;
    }
    if !authority_names.is_empty() {
        check_url(&out, what, &authority_names)?;
    }
    Ok(out)
}

/// Finds the user information in a URL template: the offsets of the `:` that ends the user
/// name (or of the `@` when there is no password) and of the `@` that ends it, if the
/// authority has user information.
fn userinfo_end(template: &str) -> Option<(usize, usize)> {
    let authority_start = template.find("://")? + 3;
    let authority_length = template[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(template.len() - authority_start);
    let authority = &template[authority_start..authority_start + authority_length];
    let at = authority.rfind('@')?;
    let user_end = authority[..at].find(':').unwrap_or(at);
    Some((authority_start + user_end, authority_start + at))
}

/// Splits a URL, or the start of one, after `://` and before the query or fragment at
/// `/`; the authority is the first item.
fn url_segments(url: &str) -> std::str::Split<'_, char> {
    let path_end = url.find(['?', '#']).unwrap_or(url.len());
    let path_start = url.find("://").map_or(0, |scheme_end| scheme_end + 3);
    url[path_start..path_end].split('/')
}

/// Returns whether a host name fits DNS: at most 253 bytes, with labels of 1 to 63 bytes
/// that do not start or end with `-`. A final dot, as in `example.com.`, is allowed.
fn is_dns_name(domain: &str) -> bool {
    const MAX_LABEL: usize = 63;
    const MAX_NAME: usize = 253;
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    domain.len() <= MAX_NAME
        && domain.split('.').all(|label| {
            !label.is_empty() && label.len() <= MAX_LABEL && !label.starts_with('-') && !label.ends_with('-')
        })
}

/// Returns whether text appended to `prefix`, which ends in a URL's authority, lands in
/// its port: after a `:` that is not inside an IPv6 address in brackets.
fn in_port(prefix: &str) -> bool {
    let authority = prefix.rsplit("://").next().unwrap_or(prefix);
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    match host_and_port.rfind(']') {
        Some(end) => host_and_port[end..].contains(':'),
        None => !host_and_port.contains('[') && host_and_port.contains(':'),
    }
}

/// Rejects a URL whose path has a `.` or `..` segment, which URL parsing would resolve
/// and so let a metadata value climb out of its path segment. `path_names` lists each
/// metadata value in the path with the index of its segment.
fn check_dot_segments(url: &str, what: &str, path_names: &[(&str, usize)]) -> Result<(), FatalError> {
    let dot_segment = url_segments(url).enumerate().find(|(_, segment)| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    });
    let Some((index, segment)) = dot_segment else {
        return Ok(());
    };
    let name = path_names
        .iter()
        .find(|(_, segment_index)| *segment_index == index)
        .map_or(path_names[0].0, |(name, _)| *name);
    Err(FatalError::bad_request(
        "METADATA_INVALID",
        format!(
            "{what}: metadata.{name} makes the URL path contain the segment {segment:?}, which would move the request to another path; check the connection's metadata"
        ),
    )
    .with("field", format!("metadata.{name}")))
}

/// Rejects a URL that a metadata value in its authority made invalid, such as a port
/// of `abc` or `99999`. Values in the path and query are percent-encoded, so only the
/// authority can break parsing. `authority_names` lists each metadata value there with
/// whether it is in the port.
fn check_url(url: &str, what: &str, authority_names: &[(&str, bool)]) -> Result<(), FatalError> {
    let error = match url::Url::parse(url) {
        Ok(parsed) => match parsed.host() {
            // The URL parser accepts host names that DNS cannot have, which would only
            // fail later, after a lookup, as an unreachable server.
            Some(url::Host::Domain(domain)) if !is_dns_name(domain) => {
                let name = authority_names
                    .iter()
                    .find(|(_, in_port)| !in_port)
                    .map_or(authority_names[0].0, |(name, _)| *name);
                return Err(FatalError::bad_request(
                    "METADATA_INVALID",
                    format!(
                        "{what}: with metadata.{name} filled in, the host is not a valid DNS name (it is longer than 253 bytes, or has a label that is empty, longer than 63 bytes, or starts or ends with `-`); check the host in the connection's metadata"
                    ),
                )
                .with("field", format!("metadata.{name}")));
            }
            _ => return Ok(()),
        },
        Err(error) => error,
    };
    let port_error = error == url::ParseError::InvalidPort;
    let name = authority_names
        .iter()
        .find(|(_, in_port)| *in_port == port_error)
        .map_or(authority_names[0].0, |(name, _)| *name);
    let part = if port_error { "port" } else { "host" };
    Err(FatalError::bad_request(
        "METADATA_INVALID",
        format!(
            "{what}: with metadata.{name} filled in, the URL is not valid ({error}); check the {part} in the connection's metadata"
        ),
    )
    .with("field", format!("metadata.{name}")))
}

fn metadata_value(metadata: &Map<String, Value>, name: &str, what: &str) -> Result<String, FatalError> {
    let missing = || {
        FatalError::bad_request(
            "METADATA_MISSING",
            format!(
                "{what} uses {{metadata.{name}}}, but the request's metadata has no `{name}`; add it to the connection's settings or change the profile"
            ),
        )
        .with("field", format!("metadata.{name}"))
    };
    match metadata.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        Some(Value::Bool(flag)) => Ok(flag.to_string()),
        Some(Value::Null) | None => Err(missing()),
        Some(other) => Err(FatalError::bad_request(
            "METADATA_INVALID",
            format!(
                "{what} uses {{metadata.{name}}}, but metadata.{name} is {}, not a string, number or boolean; give it a single value in the connection's metadata",
                if other.is_array() { "an array" } else { "an object" }
            ),
        )
        .with("field", format!("metadata.{name}"))),
    }
}

/// Finds whether text appended after `prefix` lands in the URL's authority.
fn url_part(prefix: &str) -> UrlPart {
    match prefix.find("://") {
        Some(scheme_end) if !prefix[scheme_end + 3..].contains(['/', '?', '#']) => UrlPart::Authority,
        _ => UrlPart::PathOrQuery,
    }
}

/// Reports a metadata value that cannot be escaped; the value itself is left out of the
/// error, because it may be a credential.
fn invalid_value(name: &str, what: &str, rule: &str) -> FatalError {
    FatalError::bad_request(
        "METADATA_INVALID",
        format!("metadata.{name} cannot be used in {what}: {rule}"),
    )
    .with("field", format!("metadata.{name}"))
}

fn escape_path(value: &str, name: &str, what: &str) -> Result<String, FatalError> {
    let unsafe_value = value.is_empty() || value == "." || value == ".." || value.contains(['/', '\\', '\0']);
    if unsafe_value {
        return Err(invalid_value(
            name,
            what,
            "a value in a file path must be a non-empty name that is not `.` or `..` and contains no `/`, `\\` or NUL character",
        ));
    }
    Ok(value.to_string())
}

fn escape_header(value: &str, name: &str, what: &str) -> Result<String, FatalError> {
    if value.contains(is_header_control) {
        return Err(invalid_value(
            name,
            what,
            "a header value must not contain line breaks or other control characters (tab is allowed)",
        ));
    }
    Ok(value.to_string())
}

fn escape_authority(value: &str, name: &str, what: &str) -> Result<String, FatalError> {
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return Err(invalid_value(
            name,
            what,
            "a value in the host part must contain only ASCII letters, digits, `.`, `-`, `:` and brackets (write an internationalized name in its xn-- form)",
        ));
    }
    Ok(value.to_string())
}

/// Returns whether a character may not appear in an HTTP header value: the ASCII control
/// characters (with DEL) other than tab, as RFC 9110 defines field values.
pub fn is_header_control(character: char) -> bool {
    character.is_ascii_control() && character != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn url_path_and_query_are_percent_encoded() {
        let meta = metadata(json!({"account": "a/b c", "day": "2024-01-02&x=1"}));
        let url = fill(
            "http://127.0.0.1:8080/files/{metadata.account}/scan.csv?day={metadata.day}",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap();
        assert_eq!(
            url,
            "http://127.0.0.1:8080/files/a%2Fb%20c/scan.csv?day=2024-01-02%26x%3D1"
        );
    }

    #[test]
    fn url_path_rejects_dot_segments() {
        for value in [".", ".."] {
            let meta = metadata(json!({"account": value}));
            let error = fill(
                "http://127.0.0.1:8080/p/{metadata.account}?q=1",
                &meta,
                Position::Url,
                "source.url",
            )
            .unwrap_err();
            assert_eq!(error.code, "METADATA_INVALID", "{value}");
            assert_eq!(error.details["field"], "metadata.account", "{value}");
        }
        // A percent-encoded dot next to a value counts as a dot, as URL parsers read it.
        let meta = metadata(json!({"account": "."}));
        let error = fill(
            "http://127.0.0.1:8080/p/{metadata.account}%2E/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap_err();
        assert_eq!(error.details["field"], "metadata.account");
        // In the query, or as part of a longer segment, dots are only text.
        let meta = metadata(json!({"account": ".."}));
        let query = fill(
            "http://127.0.0.1:8080/p?account={metadata.account}",
            &meta,
            Position::Url,
            "source.url",
        );
        assert_eq!(query.unwrap(), "http://127.0.0.1:8080/p?account=..");
        let longer = fill(
            "http://127.0.0.1:8080/p/{metadata.account}.csv",
            &meta,
            Position::Url,
            "source.url",
        );
        assert_eq!(longer.unwrap(), "http://127.0.0.1:8080/p/...csv");
    }

    #[test]
    fn url_host_rejects_empty_value() {
        let meta = metadata(json!({"host": ""}));
        let error = fill("http://{metadata.host}/x", &meta, Position::Url, "source.url").unwrap_err();
        assert_eq!(error.code, "METADATA_INVALID");
        assert_eq!(error.details["field"], "metadata.host");
    }

    #[test]
    fn url_host_rejects_path_characters() {
        let meta = metadata(json!({"host": "evil.example/x"}));
        let error = fill("http://{metadata.host}/f", &meta, Position::Url, "source.url").unwrap_err();
        assert_eq!(error.code, "METADATA_INVALID");
        assert_eq!(error.status_code(), 400);
    }

    #[test]
    fn file_path_rejects_parent_directory() {
        let meta = metadata(json!({"name": ".."}));
        let error = fill("/data/{metadata.name}/x.csv", &meta, Position::FilePath, "source.path").unwrap_err();
        assert!(error.message.contains("metadata.name"), "{}", error.message);
        // A backslash is a separator on Windows, so it is rejected everywhere.
        for value in ["a/b", "a\\b", "a\0b", "", "."] {
            let meta = metadata(json!({"name": value}));
            let error = fill("/data/{metadata.name}/x.csv", &meta, Position::FilePath, "source.path").unwrap_err();
            assert_eq!(error.code, "METADATA_INVALID", "{value:?}");
        }
    }

    #[test]
    fn header_rejects_line_break() {
        let meta = metadata(json!({"token": "abc\r\nX-Injected: 1"}));
        assert!(fill("Bearer {metadata.token}", &meta, Position::Header, "h").is_err());
    }

    #[test]
    fn header_rejects_control_characters() {
        for value in ["a\u{7f}b", "a\u{1}b"] {
            let meta = metadata(json!({"token": value}));
            let error = fill(
                "Bearer {metadata.token}",
                &meta,
                Position::Header,
                "source.headers.X-Key",
            )
            .unwrap_err();
            assert_eq!(error.code, "METADATA_INVALID");
            assert_eq!(error.details["field"], "metadata.token");
        }
        let meta = metadata(json!({"token": "a\tb é"}));
        assert_eq!(
            fill("{metadata.token}", &meta, Position::Header, "h").unwrap(),
            "a\tb é"
        );
    }

    #[test]
    fn invalid_filled_url_names_field() {
        for port in ["abc", "99999"] {
            let meta = metadata(json!({"port": port}));
            let error = fill("http://127.0.0.1:{metadata.port}/x", &meta, Position::Url, "source.url").unwrap_err();
            assert_eq!(error.code, "METADATA_INVALID", "{port}");
            assert_eq!(error.details["field"], "metadata.port", "{port}");
            assert!(
                error
                    .message
                    .starts_with("source.url: with metadata.port filled in, the URL is not valid ("),
                "{}",
                error.message
            );
        }
        let meta = metadata(json!({"host": "["}));
        let error = fill("http://{metadata.host}/x", &meta, Position::Url, "source.url").unwrap_err();
        assert_eq!(error.details["field"], "metadata.host");

        // The value that broke the URL is named, not the first one in the authority.
        let meta = metadata(json!({"host": "127.0.0.1", "port": "70000"}));
        let error = fill(
            "http://{metadata.host}:{metadata.port}/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap_err();
        assert_eq!(error.details["field"], "metadata.port");
        assert!(
            error.message.ends_with("check the port in the connection's metadata"),
            "{}",
            error.message
        );
        let meta = metadata(json!({"host": "[", "port": "8080"}));
        let error = fill(
            "http://{metadata.host}:{metadata.port}/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap_err();
        assert_eq!(error.details["field"], "metadata.host");
    }

    #[test]
    fn dot_segment_names_its_value() {
        let meta = metadata(json!({"a": "ok", "seg": ".."}));
        let error = fill(
            "http://127.0.0.1/{metadata.a}/{metadata.seg}/b",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap_err();
        assert_eq!(error.details["field"], "metadata.seg");
        assert_eq!(
            error.message,
            "source.url: metadata.seg makes the URL path contain the segment \"..\", which would move the request to another path; check the connection's metadata"
        );
    }

    #[test]
    fn host_must_be_a_dns_name() {
        let long_label = format!("{}.test", "a".repeat(64));
        // 254 bytes, one more than DNS allows.
        let long_name = format!("{}.bb", vec!["a".repeat(62); 4].join("."));
        assert_eq!(long_name.len(), 254);
        let longest_name = &long_name[1..];
        let meta = metadata(json!({"host": longest_name}));
        assert!(
            fill("http://{metadata.host}/x", &meta, Position::Url, "source.url").is_ok(),
            "253 bytes"
        );
        for host in [
            "a..b",
            "-",
            "a-.example",
            ".example",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            let meta = metadata(json!({"host": host}));
            let error = fill("http://{metadata.host}/x", &meta, Position::Url, "source.url").unwrap_err();
            assert_eq!(error.code, "METADATA_INVALID", "{host}");
            assert_eq!(error.details["field"], "metadata.host", "{host}");
        }
        for host in [
            "files.carrier.example",
            "files.carrier.example.",
            "127.0.0.1",
            "[::1]",
            "x-1.example",
        ] {
            let meta = metadata(json!({"host": host}));
            assert!(
                fill("http://{metadata.host}/x", &meta, Position::Url, "source.url").is_ok(),
                "{host}"
            );
        }
        // With a port placeholder after it, the host value is still the one named.
        let meta = metadata(json!({"host": "a..b", "port": "8080"}));
        let error = fill(
            "http://{metadata.host}:{metadata.port}/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap_err();
        assert_eq!(error.details["field"], "metadata.host");
    }

    #[test]
    fn userinfo_values_are_percent_encoded() {
        let meta = metadata(json!({"u": "bob@eu", "p": "p@ss:1", "port": "99999"}));
        let url = fill(
            "https://{metadata.u}:{metadata.p}@127.0.0.1/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap();
        assert_eq!(url, "https://bob%40eu:p%40ss%3A1@127.0.0.1/x");
        let colon = metadata(json!({"u": "bob:x"}));
        let error = fill("https://{metadata.u}@127.0.0.1/x", &colon, Position::Url, "source.url").unwrap_err();
        assert_eq!(error.details["field"], "metadata.u");
        // A bad port is blamed on the port, not on the password before it.
        let error = fill(
            "https://{metadata.u}:{metadata.p}@127.0.0.1:{metadata.port}/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap_err();
        assert_eq!(error.details["field"], "metadata.port");
    }

    #[test]
    fn basic_auth_user_rejects_colon() {
        let meta = metadata(json!({"u": "acme:eu"}));
        let error = fill(
            "{metadata.u}",
            &meta,
            Position::BasicAuthUser,
            "source.basic_auth.username",
        )
        .unwrap_err();
        assert_eq!(error.code, "METADATA_INVALID");
        assert_eq!(error.details["field"], "metadata.u");
        let meta = metadata(json!({"u": "acme"}));
        assert_eq!(
            fill(
                "{metadata.u}-eu",
                &meta,
                Position::BasicAuthUser,
                "source.basic_auth.username"
            )
            .unwrap(),
            "acme-eu"
        );
    }

    #[test]
    fn check_text_keeps_ipv6_brackets_valid() {
        let probe = replace_for_check("https://[{metadata.ip}]:{metadata.port}/x");
        assert_eq!(probe, "https://[::]:0/x");
        assert!(url::Url::parse(&probe).is_ok());
        let meta = metadata(json!({"ip": "::1", "port": 8443}));
        let url = fill(
            "https://[{metadata.ip}]:{metadata.port}/x",
            &meta,
            Position::Url,
            "source.url",
        )
        .unwrap();
        assert_eq!(url, "https://[::1]:8443/x");
    }

    #[test]
    fn port_position_is_found() {
        assert!(in_port("http://127.0.0.1:"));
        assert!(in_port("http://user@host:"));
        assert!(in_port("http://[::1]:"));
        assert!(!in_port("http://[::1"));
        assert!(!in_port("http://"));
        assert!(!in_port("http://user:pass@"));
    }

    #[test]
    fn missing_metadata_names_the_field() {
        let error = fill(
            "/x/{metadata.account}.csv",
            &Map::new(),
            Position::FilePath,
            "source.path",
        )
        .unwrap_err();
        assert_eq!(error.code, "METADATA_MISSING");
        assert!(error.message.contains("`account`"), "{}", error.message);
    }

    #[test]
    fn array_and_object_metadata_named() {
        for (value, kind) in [(json!(["a"]), "an array"), (json!({"a": 1}), "an object")] {
            let meta = metadata(json!({ "account": value }));
            let error = fill("/x/{metadata.account}.csv", &meta, Position::FilePath, "source.path").unwrap_err();
            assert_eq!(error.code, "METADATA_INVALID");
            assert!(
                error.message.ends_with(&format!(
                    "metadata.account is {kind}, not a string, number or boolean; give it a single value in the connection's metadata"
                )),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn path_rule_names_every_rejected_value() {
        let meta = metadata(json!({"name": "."}));
        let error = fill("/data/{metadata.name}/x.csv", &meta, Position::FilePath, "source.path").unwrap_err();
        assert!(
            error.message.ends_with("a value in a file path must be a non-empty name that is not `.` or `..` and contains no `/`, `\\` or NUL character"),
            "{}",
            error.message
        );
    }

    #[test]
    fn booleans_are_accepted() {
        let meta = metadata(json!({"flag": true}));
        assert_eq!(
            fill("/x/{metadata.flag}", &meta, Position::FilePath, "p").unwrap(),
            "/x/true"
        );
    }

    #[test]
    fn numbers_are_accepted() {
        let meta = metadata(json!({"id": 42}));
        assert_eq!(
            fill("/x/{metadata.id}", &meta, Position::FilePath, "p").unwrap(),
            "/x/42"
        );
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(check_syntax("/x/{metadata.}").is_err());
        assert!(check_syntax("/x/{date}").is_err());
        assert!(check_syntax("/x/{metadata.a").is_err());
        assert!(check_syntax("/x/{metadata.a_b-1}").is_ok());
    }
}
