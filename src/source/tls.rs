//! HTTPS trust and TLS failures: the extra root certificates of `source.ca_file`, and
//! messages in plain words for a handshake that rustls rejected.

use std::borrow::Cow;

use rustls::{AlertDescription, CertificateError};
use tokio::io::AsyncReadExt;

use crate::error::FatalError;

/// The maximum size of `source.ca_file`. The Mozilla bundle (curl's cacert.pem) is
/// about 230 KB, so a larger file is most likely the wrong one, and a device such as
/// /dev/zero would never end.
const MAX_CA_FILE_BYTES: u64 = 4 << 20;

/// A TLS failure in plain words: `problem` describes what happened, `advice` what to do.
pub struct TlsFailure {
    pub code: &'static str,
    pub problem: String,
    pub advice: String,
}

/// The certificates of `source.ca_file`, with the file's text for error messages.
pub struct CaFile {
    pub certificates: Vec<reqwest::Certificate>,
    text: Vec<u8>,
}

/// Reads the PEM certificates in `source.ca_file`.
pub async fn read_ca_file(file: &str) -> Result<CaFile, FatalError> {
    let metadata = tokio::fs::metadata(file)
        .await
        .map_err(|error| ca_file_invalid(file, &format!("cannot be read ({error})")))?;
    if !metadata.is_file() {
        return Err(ca_file_invalid(
            file,
            "is not a regular file but a directory, device or pipe",
        ));
    }
    if metadata.len() > MAX_CA_FILE_BYTES {
        return Err(ca_file_invalid(
            file,
            &format!(
                "is {} bytes long, more than the {MAX_CA_FILE_BYTES} bytes that a CA bundle needs",
                metadata.len()
            ),
        ));
    }

    let mut bytes = Vec::new();
    let opened = tokio::fs::File::open(file)
        .await
        .map_err(|error| ca_file_invalid(file, &format!("cannot be read ({error})")))?;
    // The file may grow after the size check, so the read stops at the limit as well.
    opened
        .take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|error| ca_file_invalid(file, &format!("cannot be read ({error})")))?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(ca_file_invalid(
            file,
            &format!("is more than the {MAX_CA_FILE_BYTES} bytes that a CA bundle needs"),
        ));
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);

    // A DER certificate is an ASN.1 SEQUENCE: 0x30, then a length byte.
    if text.first() == Some(&0x30) && text.get(1).is_some_and(|length| *length >= 0x80) {
        return Err(ca_file_invalid(
            file,
            &format!("looks like a DER (binary) certificate, not PEM text; convert it with `openssl x509 -inform DER -in {file} -out {file}.pem` and point source.ca_file at the result"),
        ));
    }
    let certificates = reqwest::Certificate::from_pem_bundle(text).map_err(|_| {
        let block = first_bad_block(text, |block| {
            reqwest::Certificate::from_pem_bundle(block.as_bytes()).is_ok()
        });
        ca_file_invalid(
            file,
            &format!(
                "contains a CERTIFICATE block{} that is not valid PEM (base64 between the BEGIN and END lines)",
                block_number(block)
            ),
        )
    })?;
    if certificates.is_empty() {
        return Err(ca_file_invalid(
            file,
            "contains no certificate; it must contain one or more -----BEGIN CERTIFICATE----- blocks",
        ));
    }
    // The block search for a later error skips a byte order mark by itself.
    Ok(CaFile {
        certificates,
        text: bytes,
    })
}

/// Returns the error for a `source.ca_file` whose certificates cannot be parsed, which
/// reqwest finds only when it builds the client. Finding the block costs one client per
/// certificate, but only on this error path.
pub fn unusable_ca_file(file: &str, ca_file: &CaFile) -> FatalError {
    let block = first_bad_block(&ca_file.text, |block| {
        let Ok(certificates) = reqwest::Certificate::from_pem_bundle(block.as_bytes()) else {
            return false;
        };
        let builder = certificates
            .into_iter()
            .fold(reqwest::Client::builder(), |builder, certificate| {
                builder.add_root_certificate(certificate)
            });
        builder.build().is_ok()
    });
    ca_file_invalid(
        file,
        &format!(
            "contains a CERTIFICATE block{} that is not a valid X.509 certificate",
            block_number(block)
        ),
    )
}

/// Returns the 1-based number of the first `CERTIFICATE` block in `text` that `is_valid`
/// rejects.
fn first_bad_block(text: &[u8], is_valid: impl Fn(&str) -> bool) -> Option<usize> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(text);
    let mut rest = text.as_ref();
    let mut number = 0;
    while let Some(start) = rest.find(BEGIN) {
        number += 1;
        let end = rest[start..]
            .find(END)
            .map_or(rest.len(), |end| start + end + END.len());
        if !is_valid(&rest[start..end]) {
            return Some(number);
        }
        rest = &rest[end..];
    }
    None
}

fn block_number(block: Option<usize>) -> String {
    block
        .map(|number| format!(" (number {number}, counting from 1)"))
        .unwrap_or_default()
}

fn ca_file_invalid(file: &str, problem: &str) -> FatalError {
    FatalError::bad_request(
        "CA_FILE_INVALID",
        format!("source.ca_file {file} {problem}; source.ca_file must name a PEM file that contains the CA certificates of the carrier's server"),
    )
    .with("field", "source.ca_file")
    .with("value", file)
}

/// Describes a failed TLS handshake, if rustls caused the error. The rustls error sits
/// inside nested `io::Error`s (hyper-util 0.1 wraps the one from tokio-rustls), and
/// `io::Error::source` skips the error it wraps, so an `io::Error` is opened with
/// `get_ref` instead.
/// `url_setting` names the setting the URL came from, for advice to change that setting.
pub fn describe_failure(error: &reqwest::Error, url_setting: &str) -> Option<TlsFailure> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(inner) = current {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            current = io
                .get_ref()
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
            continue;
        }
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(describe_rustls(tls, url_setting));
        }
        current = inner.source();
    }
    None
}

fn describe_rustls(error: &rustls::Error, url_setting: &str) -> TlsFailure {
    const VERSION_ADVICE: &str = "ask the carrier to enable TLS 1.2 or 1.3 with current cipher suites";
    let handshake = |problem: &str, advice: &str| TlsFailure {
        code: "SOURCE_TLS_FAILED",
        problem: problem.to_string(),
        advice: advice.to_string(),
    };
    match error {
        rustls::Error::InvalidCertificate(certificate) => describe_certificate(certificate, url_setting),
        rustls::Error::InvalidMessage(_) => handshake(
            "the server did not respond with TLS",
            &format!("if it serves plain HTTP, use an http:// URL in {url_setting}"),
        ),
        rustls::Error::PeerIncompatible(_)
        | rustls::Error::AlertReceived(
            AlertDescription::ProtocolVersion
            | AlertDescription::HandshakeFailure
            | AlertDescription::InsufficientSecurity,
        ) => handshake(
            "the server offers no TLS version or cipher suite that the addon accepts (TLS 1.2 and 1.3)",
            VERSION_ADVICE,
        ),
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => handshake(
            "the server requires a client certificate, which the addon does not support",
            "ask the carrier for access with a key in source.headers or with source.basic_auth instead",
        ),
        rustls::Error::AlertReceived(alert) => handshake(
            &format!("the server ended the TLS handshake with the alert {alert:?}"),
            "ask the carrier to check the server's TLS setup",
        ),
        other => handshake(
            &format!("the TLS handshake failed ({other})"),
            "ask the carrier to check the server's TLS setup",
        ),
    }
}

fn describe_certificate(error: &CertificateError, url_setting: &str) -> TlsFailure {
    const TRUST_ADVICE: &str = "the addon trusts the Mozilla root certificates and the ones in source.ca_file, so add the certificate of the carrier's private certificate authority there if it uses one, or ask the carrier to send its full certificate chain";
    const RENEW_ADVICE: &str = "ask the carrier to renew the certificate, and check that this machine's clock is right";
    let name_advice = format!("use the host name or IP address that the certificate was issued for in {url_setting}");
    let (reason, advice): (Cow<str>, &str) = match error {
        CertificateError::UnknownIssuer => (Cow::Borrowed("is not signed by a certificate authority that the addon trusts"), TRUST_ADVICE),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (Cow::Borrowed("has expired"), RENEW_ADVICE),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (Cow::Borrowed("is not valid yet"), RENEW_ADVICE),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
            Cow::Borrowed("is not valid for the host name in the URL"),
            &name_advice,
        ),
        CertificateError::Revoked => (Cow::Borrowed("was revoked"), "ask the carrier to replace the certificate"),
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => (
            Cow::Borrowed("is signed with an algorithm that the addon does not accept, such as SHA-1"),
            "ask the carrier for a certificate signed with SHA-256 or stronger",
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
            Cow::Borrowed("is not issued for TLS servers (its extended key usage lacks serverAuth)"),
            "ask the carrier for a server certificate",
        ),
        CertificateError::Other(other) if other.to_string() == "CaUsedAsEndEntity" => (
            Cow::Borrowed("is a certificate authority's certificate (basicConstraints CA:TRUE), which cannot identify a server even when it is in source.ca_file"),
            "ask the carrier to present a server certificate (CA:FALSE) signed by that authority, and put the authority's certificate in source.ca_file",
        ),
        _ => (
            Cow::Owned(format!("failed verification ({})", short(&error.to_string()))),
            "ask the carrier to check the certificate",
        ),
    };
    TlsFailure {
        code: "SOURCE_CERTIFICATE_INVALID",
        problem: format!("the server's TLS certificate was rejected because it {reason}"),
        advice: advice.to_string(),
    }
}

/// Shortens library text for a message, because some rustls errors list every supported
/// algorithm.
fn short(text: &str) -> String {
    const MAX_CHARS: usize = 120;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
