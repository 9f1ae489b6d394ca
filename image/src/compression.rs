//! Layer compression, told by the stream's first bytes (as containerd and Docker tell it),
//! not by the media type alone: gzip, zstd or a plain tar.

use std::io::{self, BufRead, BufReader, Read};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Tells the compression from a stream's first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A decompressing reader over `inner`, whatever its compression; the compression found.
pub fn decompress<'a, R: Read + 'a>(inner: R) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let mut buffered = BufReader::with_capacity(256 << 10, inner);
    let kind = Compression::sniff(buffered.fill_buf()?);
    let reader: Box<dyn Read + 'a> = match kind {
        // Several gzip members one after the other are one stream (pigz, concatenated layers).
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        Compression::None => Box::new(buffered),
    };
    Ok((reader, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(data: &[u8], compressed: Vec<u8>, kind: Compression) {
        let (mut r, found) = decompress(&compressed[..]).unwrap();
        assert_eq!(found, kind);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn each_compression_is_recognized() {
        let data = b"tar bytes, or anything".repeat(100);
        roundtrip(&data, data.clone(), Compression::None);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data[..1000]).unwrap();
        let mut two = gz.finish().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data[1000..]).unwrap();
        two.extend(gz.finish().unwrap());
        roundtrip(&data, two, Compression::Gzip);
        roundtrip(
            &data,
            zstd::encode_all(&data[..], 3).unwrap(),
            Compression::Zstd,
        );
        roundtrip(b"", Vec::new(), Compression::None);
    }

    #[test]
    fn corrupt_streams_fail() {
        let mut bad = zstd::encode_all(&b"x".repeat(1000)[..], 3).unwrap();
        let n = bad.len();
        bad.truncate(n - 3);
        let (mut r, _) = decompress(&bad[..]).unwrap();
        assert!(r.read_to_end(&mut Vec::new()).is_err());
    }
}
