//! HTTP and HTTPS sources, with connect and read timeouts.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{Map, Value};
use tokio_util::io::StreamReader;

use super::template::{self, Position};
use super::{tls, CountingReader, Opened};
use crate::error::{ErrorKind, FatalError};
use crate::profile::SourceSpec;

/// Sends the GET request and returns the body as a byte stream once the status is 2xx.
pub async fn open(
    url: &str,
    spec: &SourceSpec,
    metadata: &Map<String, Value>,
    bytes_read: Arc<AtomicU64>,
    url_setting: &'static str,
    not_found_advice: &str,
) -> Result<Opened, FatalError> {
    let name = redact(url);
    let carries_credentials = !spec.headers.is_empty() || spec.basic_auth.is_some();
    let followed = Arc::new(Mutex::new(None));
    let mut builder = reqwest::Client::builder()
        .connect_timeout(seconds(spec.connect_timeout_seconds))
        .read_timeout(seconds(spec.read_timeout_seconds))
        .redirect(redirect_policy(carries_credentials, followed.clone(), url_setting))
        // A Referer after a redirect would pass the URL's query, which may carry a key, to
        // the next server.
        .referer(false);
    let ca_file = match &spec.ca_file {
        Some(file) => Some((file, tls::read_ca_file(file).await?)),
        None => None,
    };
    if let Some((_, trusted)) = &ca_file {
        for certificate in &trusted.certificates {
            builder = builder.add_root_certificate(certificate.clone());
        }
    }
    let client = match (builder.build(), &ca_file) {
        (Ok(client), _) => client,
        // The certificates are parsed when the client is built.
        (Err(_), Some((file, trusted))) => return Err(tls::unusable_ca_file(file, trusted)),
        (Err(error), None) => return Err(FatalError::internal(format!("cannot build the HTTP client: {error}"))),
    };

    let mut request = client.get(url).headers(headers(spec, metadata)?);
    if let Some(auth) = &spec.basic_auth {
        let username = template::fill(
            &auth.username,
            metadata,
            Position::BasicAuthUser,
            "source.basic_auth.username",
        )?;
        let password = template::fill(&auth.password, metadata, Position::Header, "source.basic_auth.password")?;
        request = request.basic_auth(username, Some(password));
    }

    let response = request.send().await.map_err(|error| {
        let redirected_to = followed.lock().ok().and_then(|mut target| target.take());
        request_failed(&name, error, redirected_to, url_setting, None)
    })?;
    let status = response.status();
    // Set when a redirect was followed, also one that changed only the query, which the
    // redacted URLs would hide.
    let redirected_to = followed.lock().ok().and_then(|mut target| target.take());
    if !status.is_success() {
        return Err(status_error(&name, redirected_to, url_setting, not_found_advice, response).await);
    }
    // Several Content-Encoding field lines form one list, in order (RFC 9110, section 5.3).
    let content_encoding: Vec<String> = response
        .headers()
        .get_all(CONTENT_ENCODING)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let content_gzip_layers = gzip_layers(&name, &content_encoding.join(", "))?;

    let body = response.bytes_stream().map_err(std::io::Error::other);
    Ok(Opened {
        content_gzip_layers,
        redirected_to,
        name,
        reader: Box::new(CountingReader {
            inner: StreamReader::new(body),
            bytes_read,
        }),
    })
}

/// Counts the gzip layers in a `Content-Encoding` value, a list of codings in the order
/// they were applied. `identity` and empty entries add none.
fn gzip_layers(name: &str, header: &str) -> Result<usize, FatalError> {
    let mut layers = 0;
    for coding in header.split(',') {
        let coding = coding.trim().to_ascii_lowercase();
        match coding.as_str() {
            "" | "identity" => {}
            // The request sends no Accept-Encoding, so a server that compresses anyway
            // most likely used gzip; the gzip stage decodes it and reports damage.
            "gzip" | "x-gzip" => layers += 1,
            _ => {
                return Err(FatalError::carrier(
                    "SOURCE_ENCODING_UNSUPPORTED",
                    format!(
                        "GET {name} returned the body with Content-Encoding {header:?}, and the coding {coding:?} is not supported; only gzip and identity are, so ask the carrier to send the file uncompressed or gzip-compressed"
                    ),
                )
                .with("source", name)
                .with("content_encoding", header.trim()));
            }
        }
    }
    Ok(layers)
}

fn seconds(value: f64) -> Duration {
    // Validation keeps timeouts from 1 ms to one day, and this form cannot panic on any input.
    Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX)
}

/// The maximum number of redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Follows up to `MAX_REDIRECTS` redirects. When the request carries credentials in
/// `source.headers` or `source.basic_auth`, a redirect to another origin (scheme, host
/// or port) is an error, because reqwest forwards custom headers such as `X-Api-Key` to
/// the new origin. A redirect from https to http is an error too. `followed` receives each
/// redirect target that is followed, without its query, so that an error on the way names
/// the server that failed. Each error message ends with its advice.
fn redirect_policy(
    carries_credentials: bool,
    followed: Arc<Mutex<Option<String>>>,
    url_setting: &'static str,
) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!(
                "the server redirected more than {MAX_REDIRECTS} times; set {url_setting} to the final address of the file"
            ));
        }
        if !matches!(attempt.url().scheme(), "http" | "https") {
            let target = redact(attempt.url().as_str());
            return attempt.error(format!(
                "the server redirected to {target}, which is not an http or https address; set {url_setting} to the final address of the file"
            ));
        }
        let downgrade =
            attempt.url().scheme() == "http" && attempt.previous().iter().any(|url| url.scheme() == "https");
        if downgrade {
            let target = redact(attempt.url().as_str());
            return attempt.error(format!(
                "the server redirected from https to {target}, which would send the file unencrypted; set {url_setting} to that http address (its query is left out here) if plain HTTP is intended"
            ));
        }
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if carries_credentials && !same_origin {
            let target = redact(attempt.url().as_str());
            return attempt.error(format!(
                "the server redirected to another origin, {target}, and the request carries credentials from source.headers or source.basic_auth, which are not sent to another origin; set {url_setting} to the final address of the file"
            ));
        }
        if let Ok(mut target) = followed.lock() {
            *target = Some(redact(attempt.url().as_str()));
        }
        attempt.follow()
    })
}

fn headers(spec: &SourceSpec, metadata: &Map<String, Value>) -> Result<HeaderMap, FatalError> {
    let mut map = HeaderMap::new();
    for (name, value) in &spec.headers {
        let path = format!("source.headers.{name}");
        let value = template::fill(value, metadata, Position::Header, &path)?;
        // Validation and `template::fill` have checked the name and the value, so these
        // errors mean a bug in those checks.
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            FatalError::internal(format!(
                "{path}: `{name}` is not a valid HTTP header name, although validation accepted it"
            ))
        })?;
        let header_value = HeaderValue::from_str(&value).map_err(|_| {
            FatalError::internal(format!(
                "{path}: the filled value is not a valid HTTP header value, although it was checked"
            ))
        })?;
        map.insert(header_name, header_value);
    }
    Ok(map)
}

/// Drops the query string and user info, which may carry credentials.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let had_query = parsed.query().is_some();
            parsed.set_query(None);
            parsed.set_fragment(None);
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            let mut text = parsed.to_string();
            if had_query {
                text.push_str("?…");
            }
            text
        }
        Err(_) => "(invalid URL)".to_string(),
    }
}

/// Maps a transport failure (connect, TLS, timeout) to a carrier server error. `name` is the
/// requested URL and `redirected_to` the last redirect target, both without their query,
/// which may carry credentials.
/// `url_setting` names where the URL came from (see `super::setting_used`), and `received`
/// describes what was read before a body broke off, such as "5000 bytes".
pub fn request_failed(
    name: &str,
    error: reqwest::Error,
    redirected_to: Option<String>,
    url_setting: &str,
    received: Option<&str>,
) -> FatalError {
    let error = error.without_url();
    let at = match &redirected_to {
        Some(target) => format!(" (redirected to {target})"),
        None => String::new(),
    };
    let mut failure = match tls::describe_failure(&error, url_setting) {
        Some(tls) => FatalError::carrier(
            tls.code,
            format!(
                "GET {name}{at} failed: {}; {}. A retry does not help until then",
                tls.problem, tls.advice
            ),
        ),
        None => transport_failure(name, &at, &error, received),
    }
    .with("source", name);
    if let Some(target) = redirected_to {
        failure = failure.with("redirected_to", target);
    }
    failure
}

fn transport_failure(name: &str, at: &str, error: &reqwest::Error, received: Option<&str>) -> FatalError {
    let (code, what, advice) = if error.is_timeout() {
        (
            "SOURCE_TIMEOUT",
            "timed out",
            "check that the carrier's server is reachable, or raise source.connect_timeout_seconds or source.read_timeout_seconds, then retry",
        )
    } else if error.is_connect() {
        (
            "SOURCE_UNREACHABLE",
            "could not connect",
            "check that the carrier's server is reachable, then retry",
        )
    } else if error.is_redirect() {
        // The redirect policy's message contains the advice, and reqwest's own line
        // ("error following redirect") adds nothing to it.
        let reason = std::error::Error::source(error)
            .map(error_chain)
            .unwrap_or_else(|| error.to_string());
        return FatalError::carrier("SOURCE_REQUEST_FAILED", format!("GET {name}{at} failed: {reason}"));
    } else if error.is_body() || error.is_decode() {
        // reqwest reports a body that breaks off while it is streamed as a decode error.
        let outcome = match received {
            Some(received) => format!("ended after {received}, before the whole body arrived"),
            None => "ended before the whole body arrived".to_string(),
        };
        return FatalError::carrier(
            "SOURCE_READ_FAILED",
            format!("GET {name}{at} {outcome}: {}; retry the import", error_chain(error)),
        );
    } else {
        (
            "SOURCE_REQUEST_FAILED",
            "failed",
            "check that the carrier's server is reachable, then retry",
        )
    };
    FatalError::carrier(code, format!("GET {name}{at} {what}: {}; {advice}", error_chain(error)))
}

/// Joins an error's messages with `: `. Links to library documentation, which rustls adds
/// to some messages, are left out, because they explain the library, not the failure.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        parts.push(inner.to_string());
        source = inner.source();
    }
    parts
        .iter()
        .flat_map(|part| part.split(": "))
        .filter(|piece| !piece.starts_with("https://docs.rs/"))
        .collect::<Vec<_>>()
        .join(": ")
}

/// The wait given to Connect for an HTTP 429 without a valid Retry-After header, because
/// Connect expects retryAfterSeconds on every rate-limit error.
const DEFAULT_RETRY_AFTER_SECONDS: u64 = 60;

/// Describes an error status. `redirected_to` is the URL that returned it when redirects
/// were followed, `url_setting` names the setting the URL came from, and
/// `not_found_advice` is the advice for 404 and 410.
async fn status_error(
    name: &str,
    redirected_to: Option<String>,
    url_setting: &str,
    not_found_advice: &str,
    response: reqwest::Response,
) -> FatalError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after);
    let excerpt = body_excerpt(response).await;

    let request_advice = format!("check {url_setting} and source.headers");
    let (kind, code, advice) = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (
            ErrorKind::Unauthorized,
            "SOURCE_UNAUTHORIZED",
            "check the connection's credentials",
        ),
        StatusCode::NOT_FOUND | StatusCode::GONE => (ErrorKind::BadRequest, "SOURCE_NOT_FOUND", not_found_advice),
        StatusCode::TOO_MANY_REQUESTS => (
            ErrorKind::RateLimited {
                retry_after_seconds: Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECONDS)),
            },
            "SOURCE_RATE_LIMITED",
            if retry_after.is_some() {
                "retry later"
            } else {
                "retry later (the server sent no valid Retry-After, so retryAfterSeconds is the default of 60)"
            },
        ),
        status if status.is_server_error() => (
            ErrorKind::CarrierServer,
            "SOURCE_SERVER_ERROR",
            "the carrier's server failed; retry later",
        ),
        _ => (ErrorKind::BadRequest, "SOURCE_HTTP_ERROR", request_advice.as_str()),
    };
    let at = match &redirected_to {
        Some(target) => format!(" (redirected to {target})"),
        None => String::new(),
    };
    let mut error = FatalError::new(kind, code, format!("GET {name}{at} returned HTTP {status}; {advice}"))
        .with("source", name)
        .with("http_status", status.as_u16());
    if let Some(target) = redirected_to {
        error = error.with("redirected_to", target);
    }
    if let (Some(seconds), ErrorKind::CarrierServer) = (retry_after, &error.kind) {
        // Connect's retryAfterSeconds belongs to 429 only, but a 503 may also carry Retry-After.
        error = error.with("retry_after_seconds", seconds);
    }
    if !excerpt.is_empty() {
        error = error.with("body", excerpt);
    }
    error
}

/// Reads at most 500 bytes of an error response, for the error's details.
async fn body_excerpt(response: reqwest::Response) -> String {
    const LIMIT: usize = 500;
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    let read = async {
        while let Ok(Some(chunk)) = stream.try_next().await {
            bytes.extend_from_slice(&chunk);
            if bytes.len() >= LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), read).await;
    bytes.truncate(LIMIT);
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// The maximum wait passed on from `Retry-After`: one day. A server that requests more,
/// such as 10^20 seconds, most likely sent a wrong value, and the scheduled import would
/// otherwise never run again.
const MAX_RETRY_AFTER_SECONDS: u64 = 86_400;

/// Parses `Retry-After` as seconds (a fraction is rounded up) or as an HTTP date, capped
/// at `MAX_RETRY_AFTER_SECONDS`.
fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    let seconds = if let Ok(seconds) = value.parse::<u64>() {
        seconds
    } else if let Some(seconds) = value
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
    {
        seconds.ceil().min(MAX_RETRY_AFTER_SECONDS as f64) as u64
    } else {
        let date = jiff::fmt::rfc2822::parse(value).ok()?;
        (date.timestamp().as_second() - jiff::Timestamp::now().as_second()).max(0) as u64
    };
    Some(seconds.min(MAX_RETRY_AFTER_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_query_and_user() {
        assert_eq!(
            redact("https://user:secret@127.0.0.1:9/a/b.csv?key=secret"),
            "https://127.0.0.1:9/a/b.csv?…"
        );
        assert_eq!(
            redact("http://127.0.0.1:9/p/a#part?key=secret"),
            "http://127.0.0.1:9/p/a"
        );
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("120"), Some(120));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("1.5"), Some(2));
        assert_eq!(parse_retry_after("-3"), None);
        assert_eq!(parse_retry_after("86401"), Some(86_400));
        assert_eq!(parse_retry_after("99999999999999999999"), Some(86_400));
        assert_eq!(parse_retry_after("1e30"), Some(86_400));
        assert_eq!(parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT"), Some(86_400));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
