//! A bounds-checked reader over a client payload: every accessor returns
//! `None` instead of panicking when the payload is too short.

pub struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    /// A length-encoded integer; the NULL marker (0xFB) and 0xFF are not
    /// lengths and make this fail.
    pub fn lenenc_int(&mut self) -> Option<u64> {
        match self.u8()? {
            b @ 0..=0xFA => Some(u64::from(b)),
            0xFC => self.u16().map(u64::from),
            0xFD => {
                let b = self.take(3)?;
                Some(u64::from(b[0]) | u64::from(b[1]) << 8 | u64::from(b[2]) << 16)
            }
            0xFE => self.u64(),
            _ => None,
        }
    }

    pub fn lenenc_bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.lenenc_int()?;
        self.take(usize::try_from(n).ok()?)
    }

    /// Bytes up to a NUL, which is consumed; `None` without a NUL.
    pub fn nul_terminated(&mut self) -> Option<&'a [u8]> {
        let at = self.buf.iter().position(|&b| b == 0)?;
        let s = &self.buf[..at];
        self.buf = &self.buf[at + 1..];
        Some(s)
    }

    /// Bytes up to a NUL (consumed) or to the end.
    pub fn nul_or_rest(&mut self) -> &'a [u8] {
        match self.buf.iter().position(|&b| b == 0) {
            Some(at) => {
                let s = &self.buf[..at];
                self.buf = &self.buf[at + 1..];
                s
            }
            None => self.rest(),
        }
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_none_not_panic() {
        let mut c = Cursor::new(&[1, 2, 3]);
        assert_eq!(c.u32(), None);
        assert_eq!(c.u16(), Some(0x0201));
        assert_eq!(c.lenenc_bytes(), None);
        let mut c = Cursor::new(&[0xFE, 1, 2]);
        assert_eq!(c.lenenc_int(), None);
        let mut c = Cursor::new(&[0xFD, 1, 0, 0, b'x']);
        assert_eq!(c.lenenc_bytes(), Some(&b"x"[..]));
        let mut c = Cursor::new(b"ab\0cd");
        assert_eq!(c.nul_terminated(), Some(&b"ab"[..]));
        assert_eq!(c.nul_terminated(), None);
        assert_eq!(c.nul_or_rest(), b"cd");
        assert_eq!(c.remaining(), 0);
    }
}
