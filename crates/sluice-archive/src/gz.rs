//! Gzip members, one after another, the way Python's `gzip` reads them.

use std::io::{self, Read};

use flate2::bufread::GzDecoder;

/// Decodes every gzip member in `bytes` in turn, stopping cleanly at the
/// end or at trailing zero padding (which Python's `gzip`, and so pip,
/// accept). Any other trailing bytes must be a valid member, so a second
/// member hiding more files is read, and garbage is an error.
pub(crate) struct Members<'a> {
    current: GzDecoder<&'a [u8]>,
}

impl<'a> Members<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            current: GzDecoder::new(bytes),
        }
    }
}

impl Read for Members<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.current.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This member is done (its CRC and size checked by flate2);
            // what is left of the input decides whether another follows.
            let rest: &[u8] = self.current.get_ref();
            if rest.iter().all(|&b| b == 0) {
                return Ok(0);
            }
            self.current = GzDecoder::new(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Members::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_padding_and_garbage() {
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        assert_eq!(read_all(&two).unwrap(), b"hello world");
        let mut padded = gz(b"abc");
        padded.extend([0u8; 100]);
        assert_eq!(read_all(&padded).unwrap(), b"abc");
        let mut junk = gz(b"abc");
        junk.extend(b"junk");
        assert!(read_all(&junk).is_err());
        let one = gz(b"abc");
        assert!(read_all(&one[..one.len() - 4]).is_err());
        assert!(read_all(b"").is_err());
    }
}
