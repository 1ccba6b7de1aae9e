//! Sources: where the bytes of a carrier file come from (a local file or HTTP).

mod http;
pub use http::request_failed as http_request_failed;
pub mod template;
mod tls;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use serde_json::{Map, Value};
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::FatalError;
use crate::profile::SourceSpec;
use template::Position;

/// An opened source: a byte stream and the name used in messages.
pub struct Opened {
    /// The file path, or the URL without its query string.
    pub name: String,
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
    /// How many times the HTTP body was gzip-compressed for the transfer, from its
    /// `Content-Encoding` header (`gzip, gzip` is 2). These layers are decompressed
    /// whatever the profile's `compression` is set to, and then `compression` applies.
    pub content_gzip_layers: usize,
    /// The URL that redirects led to, without its query, when it differs from `name`.
    pub redirected_to: Option<String>,
}

/// A resolved source location: a file path or a URL with its placeholders filled.
#[derive(Debug, Clone)]
pub enum Location {
    Path(String),
    Url(String),
}

impl Location {
    /// Parses the import's `source` option (`--source` in the CLI): an http(s) URL or a file
    /// path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("http://") || text.starts_with("https://") {
            Location::Url(text.to_string())
        } else {
            Location::Path(text.to_string())
        }
    }
}

/// Fills the profile's location from the request's metadata.
pub fn resolve(spec: &SourceSpec, metadata: &Map<String, Value>) -> Result<Location, FatalError> {
    if let Some(path) = &spec.path {
        return template::fill(path, metadata, Position::FilePath, "source.path").map(Location::Path);
    }
    let url = spec.url.as_deref().unwrap_or_default();
    template::fill(url, metadata, Position::Url, "source.url").map(Location::Url)
}

/// Opens the location; `bytes_read` counts the bytes as they arrive. `overridden` is set
/// when the location came from the import's `source` option instead of the profile.
pub async fn open(
    location: &Location,
    spec: &SourceSpec,
    metadata: &Map<String, Value>,
    bytes_read: Arc<AtomicU64>,
    overridden: bool,
) -> Result<Opened, FatalError> {
    match location {
        Location::Path(path) => {
            let setting = setting_used("source.path", overridden);
            let advice = not_found_advice(setting, spec.path.as_deref(), overridden);
            open_file(path, bytes_read, setting, &advice).await
        }
        Location::Url(url) => {
            let setting = setting_used("source.url", overridden);
            let advice = not_found_advice(setting, spec.url.as_deref(), overridden);
            http::open(url, spec, metadata, bytes_read, setting, &advice).await
        }
    }
}

/// Returns the name of the setting a location came from, for advice to change it:
/// `profile_setting` (such as `source.url`), or the import's `source` option when
/// `overridden` is set.
pub fn setting_used(profile_setting: &'static str, overridden: bool) -> &'static str {
    if overridden {
        "the source option (--source in the CLI)"
    } else {
        profile_setting
    }
}

/// Returns the advice for a source that does not exist: check `setting`, and the metadata
/// when the profile's template uses some and was used.
fn not_found_advice(setting: &str, template: Option<&str>, overridden: bool) -> String {
    if !overridden && template.is_some_and(|template| template.contains("{metadata.")) {
        format!("check {setting} and the metadata it uses")
    } else {
        format!("check {setting}")
    }
}

/// Opens a local file. `setting` names where the path came from, so that messages point
/// there, and `not_found_advice` is the advice for a missing file.
async fn open_file(
    path: &str,
    bytes_read: Arc<AtomicU64>,
    setting: &str,
    not_found_advice: &str,
) -> Result<Opened, FatalError> {
    let file = tokio::fs::File::open(path).await.map_err(|error| {
        let (code, advice) = match error.kind() {
            std::io::ErrorKind::NotFound => ("SOURCE_NOT_FOUND", not_found_advice.to_string()),
            std::io::ErrorKind::PermissionDenied => ("SOURCE_FORBIDDEN", "grant this process read access".to_string()),
            _ => ("SOURCE_OPEN_FAILED", format!("check {setting}")),
        };
        FatalError::bad_request(code, format!("cannot open {path}: {error}; {advice}")).with("source", path)
    })?;
    let is_directory = file.metadata().await.is_ok_and(|metadata| metadata.is_dir());
    if is_directory {
        return Err(FatalError::bad_request(
            "SOURCE_NOT_A_FILE",
            format!("{path} is a directory, not a file; point {setting} at the carrier's file"),
        )
        .with("source", path));
    }
    Ok(Opened {
        content_gzip_layers: 0,
        redirected_to: None,
        name: path.to_string(),
        reader: Box::new(CountingReader {
            inner: file,
            bytes_read,
        }),
    })
}

/// Counts the bytes that pass through an `AsyncRead`.
pub struct CountingReader<R> {
    pub inner: R,
    pub bytes_read: Arc<AtomicU64>,
}

impl<R: AsyncRead + Unpin> AsyncRead for CountingReader<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let added = buf.filled().len() - before;
        self.bytes_read.fetch_add(added as u64, Ordering::Relaxed);
        poll
    }
}
