//! HTTP and HTTPS sources, with connect and read timeouts.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{Map, Value};
use tokio_util::io::StreamReader;

use super::template::{self, Position};
use super::{CountingReader, Opened};
use crate::error::{ErrorKind, FatalError};
use crate::profile::SourceSpec;

/// Sends the GET request and returns the body as a byte stream once the status is 2xx.
pub async fn open(
    url: &str,
    spec: &SourceSpec,
    metadata: &Map<String, Value>,
    bytes_read: Arc<AtomicU64>,
) -> Result<Opened, FatalError> {
    let name = redact(url);
    let carries_credentials = !spec.headers.is_empty() || spec.basic_auth.is_some();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(seconds(spec.connect_timeout_seconds))
        .read_timeout(seconds(spec.read_timeout_seconds))
        .redirect(redirect_policy(carries_credentials))
        // A Referer after a redirect would pass the URL's query, which may carry a key, to
        // the next server.
        .referer(false);
    if let Some(file) = &spec.ca_file {
        for certificate in read_ca_file(file).await? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    let client = builder.build().map_err(|error| match &spec.ca_file {
        // The certificates are parsed when the client is built.
        Some(file) => ca_file_invalid(file, format!("cannot be used ({})", error_chain(&error))),
        None => FatalError::internal(format!("cannot build the HTTP client: {error}")),
    })?;

    let mut request = client.get(url).headers(headers(spec, metadata)?);
    if let Some(auth) = &spec.basic_auth {
        let username = template::fill(&auth.username, metadata, Position::Header, "source.basic_auth.username")?;
        let password = template::fill(&auth.password, metadata, Position::Header, "source.basic_auth.password")?;
        request = request.basic_auth(username, Some(password));
    }

    let response = request
        .send()
        .await
        .map_err(|error| request_failed(&name, &error.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(status_error(&name, response).await);
    }
    let content_gzip_layers = match response.headers().get(CONTENT_ENCODING) {
        None => 0,
        Some(encoding) => gzip_layers(&name, &String::from_utf8_lossy(encoding.as_bytes()))?,
    };

    let body = response
        .bytes_stream()
        .map_err(std::io::Error::other);
    Ok(Opened {
        content_gzip_layers,
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
/// the new origin.
fn redirect_policy(carries_credentials: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        if !matches!(attempt.url().scheme(), "http" | "https") {
            let target = redact(attempt.url().as_str());
            return attempt.error(format!(
                "the server redirected to {target}, which is not an http or https address"
            ));
        }
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if carries_credentials && !same_origin {
            let target = redact(attempt.url().as_str());
            return attempt.error(format!(
                "the server redirected to another origin, {target}, and the request carries credentials from source.headers or source.basic_auth, which are not sent to another origin"
            ));
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
            FatalError::internal(format!("{path}: `{name}` is not a valid HTTP header name, although validation accepted it"))
        })?;
        let header_value = HeaderValue::from_str(&value).map_err(|_| {
            FatalError::internal(format!("{path}: the filled value is not a valid HTTP header value, although it was checked"))
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

/// Maps a transport failure (connect, TLS, timeout) to a carrier server error. Callers pass
/// the error through `without_url`, because the URL's query may carry credentials.
pub fn request_failed(name: &str, error: &reqwest::Error) -> FatalError {
    if let Some(reason) = certificate_rejection(error) {
        return FatalError::carrier(
            "SOURCE_CERTIFICATE_INVALID",
            format!(
                "GET {name} failed: the server's TLS certificate was rejected because it {reason}. The addon trusts the Mozilla root certificates and the ones in source.ca_file, so add the certificate of the carrier's private certificate authority there if it uses one, or ask the carrier to fix the certificate; a retry does not help until then"
            ),
        )
        .with("source", name);
    }
    let (code, what, advice) = if error.is_timeout() {
        (
            "SOURCE_TIMEOUT",
            "timed out",
            "check that the carrier's server is reachable, or raise source.connect_timeout_seconds or source.read_timeout_seconds, then retry",
        )
    } else if error.is_connect() {
        ("SOURCE_UNREACHABLE", "could not connect", "check that the carrier's server is reachable, then retry")
    } else if error.is_redirect() {
        ("SOURCE_REQUEST_FAILED", "failed", "set source.url to the final address of the file")
    } else if error.is_body() || error.is_decode() {
        // reqwest reports a body that breaks off while it is streamed as a decode error.
        ("SOURCE_READ_FAILED", "ended before the whole body arrived", "retry the import")
    } else {
        ("SOURCE_REQUEST_FAILED", "failed", "check that the carrier's server is reachable, then retry")
    };
    FatalError::carrier(code, format!("GET {name} {what}: {}; {advice}", error_chain(error)))
    .with("source", name)
}

/// Finds the reason why rustls rejected the server's certificate, if it did. The rustls
/// error sits inside nested `io::Error`s (hyper-util 0.1 wraps the one from tokio-rustls),
/// and `io::Error::source` skips the error it wraps, so an `io::Error` is opened with
/// `get_ref` instead.
fn certificate_rejection(error: &reqwest::Error) -> Option<String> {
    use rustls::CertificateError;

    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(inner) = current {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            current = io.get_ref().map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
            continue;
        }
        if let Some(rustls::Error::InvalidCertificate(certificate)) = inner.downcast_ref::<rustls::Error>() {
            let reason = match certificate {
                CertificateError::UnknownIssuer => "is not signed by a certificate authority that the addon trusts".to_string(),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => "has expired".to_string(),
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => "is not valid yet".to_string(),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    "is not valid for the host name in the URL".to_string()
                }
                CertificateError::Revoked => "was revoked".to_string(),
                CertificateError::BadSignature => "has an invalid signature".to_string(),
                CertificateError::Other(other) if other.to_string() == "CaUsedAsEndEntity" => {
                    "is a certificate authority's certificate, not a server certificate".to_string()
                }
                other => format!("failed verification ({other})"),
            };
            return Some(reason);
        }
        current = inner.source();
    }
    None
}

/// Reads the PEM certificates in `source.ca_file`.
async fn read_ca_file(file: &str) -> Result<Vec<reqwest::Certificate>, FatalError> {
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|error| ca_file_invalid(file, format!("cannot be read ({error})")))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&bytes)
        .map_err(|error| ca_file_invalid(file, format!("is not a PEM file of certificates ({})", error_chain(&error))))?;
    if certificates.is_empty() {
        return Err(ca_file_invalid(
            file,
            "contains no certificate; it must contain one or more -----BEGIN CERTIFICATE----- blocks".to_string(),
        ));
    }
    Ok(certificates)
}

fn ca_file_invalid(file: &str, problem: String) -> FatalError {
    FatalError::bad_request(
        "CA_FILE_INVALID",
        format!("source.ca_file {file} {problem}; check the path and that the file holds the carrier's CA certificates in PEM form"),
    )
    .with("field", "source.ca_file")
    .with("value", file)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The wait given to Connect for an HTTP 429 without a valid Retry-After header, because
/// Connect expects retryAfterSeconds on every rate-limit error.
const DEFAULT_RETRY_AFTER_SECONDS: u64 = 60;

async fn status_error(name: &str, response: reqwest::Response) -> FatalError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after);
    let excerpt = body_excerpt(response).await;

    let (kind, code, advice) = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (
            ErrorKind::Unauthorized,
            "SOURCE_UNAUTHORIZED",
            "check the connection's credentials",
        ),
        StatusCode::NOT_FOUND | StatusCode::GONE => (
            ErrorKind::BadRequest,
            "SOURCE_NOT_FOUND",
            "check source.url and the metadata it uses",
        ),
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
        _ => (
            ErrorKind::BadRequest,
            "SOURCE_HTTP_ERROR",
            "check source.url and source.headers",
        ),
    };
    let mut error = FatalError::new(kind, code, format!("GET {name} returned HTTP {status}; {advice}"))
        .with("source", name)
        .with("http_status", status.as_u16());
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

/// The maximum wait passed on from `Retry-After`: one day. A server that asks for more,
/// such as 10^20 seconds, most likely sent a wrong value, and the scheduled import would
/// otherwise never run again.
const MAX_RETRY_AFTER_SECONDS: u64 = 86_400;

/// Parses `Retry-After` as seconds (a fraction is rounded up) or as an HTTP date, capped
/// at `MAX_RETRY_AFTER_SECONDS`.
fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    let seconds = if let Ok(seconds) = value.parse::<u64>() {
        seconds
    } else if let Some(seconds) = value.parse::<f64>().ok().filter(|seconds| seconds.is_finite() && *seconds >= 0.0) {
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
        assert_eq!(redact("http://127.0.0.1:9/p/a#part?key=secret"), "http://127.0.0.1:9/p/a");
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
