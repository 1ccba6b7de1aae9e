//! Decompression: gzip (single or multi-member) chosen by the profile or by magic bytes.

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use async_compression::tokio::bufread::GzipDecoder;

use crate::profile::Compression;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Wraps the source in a gzip decoder when needed; returns the reader and whether it is gzip.
pub async fn wrap(
    reader: Box<dyn AsyncRead + Send + Unpin>,
    compression: Compression,
) -> std::io::Result<(Box<dyn AsyncRead + Send + Unpin>, bool)> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let gzip = match compression {
        Compression::None => false,
        Compression::Gzip => true,
        Compression::Auto => buffered.fill_buf().await?.starts_with(&GZIP_MAGIC),
    };
    if gzip {
        let mut decoder = GzipDecoder::new(buffered);
        decoder.multiple_members(true);
        Ok((Box::new(decoder), true))
    } else {
        Ok((Box::new(buffered), false))
    }
}
