//! Text decoding: carrier bytes in the profile's encoding to UTF-8.
//!
//! A byte order mark wins over the profile's encoding, so UTF-8 files with a BOM and UTF-16
//! files in either byte order decode with the same profile. Labels follow the WHATWG
//! Encoding Standard as implemented by encoding_rs: `iso-8859-1` and `latin1` decode as
//! windows-1252, which only differs in the rarely used C1 control range 0x80-0x9F.

use encoding_rs::{CoderResult, Decoder, Encoding};

pub struct TextDecoder {
    decoder: Decoder,
    /// How many U+FFFD characters the decoder wrote for malformed bytes. When a chunk had
    /// replacements, every U+FFFD in its output is counted, even one the input contained.
    pub replacements: u64,
}

impl TextDecoder {
    /// Creates a decoder for a label that profile validation has accepted.
    pub fn new(label: &str) -> TextDecoder {
        let encoding = Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        TextDecoder {
            decoder: encoding.new_decoder(),
            replacements: 0,
        }
    }

    /// Decodes `input` and appends the text to `out`; `last` marks the end of the stream.
    pub fn decode_into(&mut self, input: &[u8], out: &mut String, last: bool) {
        let mut rest = input;
        loop {
            let needed = self
                .decoder
                .max_utf8_buffer_length(rest.len())
                .unwrap_or(rest.len() * 3 + 16);
            out.reserve(needed);
            let start = out.len();
            let (result, read, replaced) = self.decoder.decode_to_string(rest, out, last);
            if replaced {
                let finder = memchr::memmem::find_iter(&out.as_bytes()[start..], "\u{FFFD}".as_bytes());
                self.replacements += finder.count() as u64;
            }
            rest = &rest[read..];
            match result {
                CoderResult::InputEmpty => return,
                CoderResult::OutputFull => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(label: &str, bytes: &[u8], chunk: usize) -> String {
        let mut decoder = TextDecoder::new(label);
        let mut out = String::new();
        for piece in bytes.chunks(chunk) {
            decoder.decode_into(piece, &mut out, false);
        }
        decoder.decode_into(&[], &mut out, true);
        out
    }

    #[test]
    fn latin1_umlauts_split_anywhere() {
        let bytes = b"Empf\xe4ngername;R\xf6dhaz";
        for chunk in 1..bytes.len() {
            assert_eq!(decode_all("iso-8859-1", bytes, chunk), "Empfängername;Rödhaz");
        }
    }

    #[test]
    fn utf8_bom_is_removed() {
        assert_eq!(decode_all("utf-8", b"\xef\xbb\xbfa;b", 2), "a;b");
    }

    #[test]
    fn utf16_big_endian_bom_overrides_label() {
        let bytes = [0xfe, 0xff, 0x00, b'a', 0x00, 0xe4];
        assert_eq!(decode_all("utf-16", &bytes, 1), "aä");
    }

    #[test]
    fn utf16_little_endian_with_bom() {
        let bytes = [0xff, 0xfe, b'a', 0x00, 0xe4, 0x00];
        assert_eq!(decode_all("utf-16", &bytes, 3), "aä");
    }

    #[test]
    fn malformed_utf8_is_counted() {
        let mut decoder = TextDecoder::new("utf-8");
        let mut out = String::new();
        decoder.decode_into(b"a\xffb", &mut out, true);
        assert_eq!(out, "a\u{fffd}b");
        assert_eq!(decoder.replacements, 1);
    }
}
