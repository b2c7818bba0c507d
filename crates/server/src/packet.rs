//! MySQL packet framing: reading logical packets (reassembling payloads
//! split at 16 MiB) and appending framed packets to an output buffer.
//!
//! This is tiembed's own framing, used by the handshake and by the guard in
//! front of opensrv; opensrv's reader only ever sees one complete logical
//! packet at a time (see `guard.rs` for why).

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest payload one physical packet carries; a payload of this length is
/// continued in the next packet.
pub const MAX_CHUNK: usize = 0xFF_FFFF;

/// One logical packet as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Sequence id of the first physical packet.
    pub first_seq: u8,
    /// Sequence id of the last physical packet; a reply starts at `seq + 1`.
    pub seq: u8,
    pub payload: Vec<u8>,
}

impl Packet {
    /// The packet framed again exactly as the client framed it (same split
    /// points, same sequence ids).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 8);
        let mut seq = self.first_seq;
        append_framed(&mut out, &mut seq, &self.payload);
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The payload would exceed the configured limit; nothing more of it
    /// was read. `seq` is the sequence id of the offending packet header.
    #[error("packet larger than max_allowed_packet ({limit} bytes)")]
    TooLarge { limit: usize, seq: u8 },
    /// A sequence id other than the expected one.
    #[error("packets out of order: expected {expected}, got {got}")]
    OutOfOrder { expected: u8, got: u8 },
    /// The peer closed the connection in the middle of a packet.
    #[error("connection closed in the middle of a packet")]
    Truncated,
}

/// Reads one logical packet. `Ok(None)` means the peer closed the
/// connection cleanly between packets. `expect_seq`, when given, is the
/// sequence id the first physical packet must carry; continuation packets
/// must always follow on consecutively.
pub async fn read_packet<R: AsyncRead + Unpin>(
    r: &mut R,
    max_payload: usize,
    expect_seq: Option<u8>,
) -> Result<Option<Packet>, ReadError> {
    let mut header = [0u8; 4];
    // A clean close is only one that happens before the first header byte.
    let n = r.read(&mut header[..1]).await?;
    if n == 0 {
        return Ok(None);
    }
    read_exact_or_truncated(r, &mut header[1..]).await?;
    let (len, first_seq) = split_header(header);
    if let Some(expected) = expect_seq {
        if first_seq != expected {
            return Err(ReadError::OutOfOrder {
                expected,
                got: first_seq,
            });
        }
    }
    if len > max_payload {
        return Err(ReadError::TooLarge {
            limit: max_payload,
            seq: first_seq,
        });
    }
    let mut payload = vec![0u8; len];
    read_exact_or_truncated(r, &mut payload).await?;
    let mut seq = first_seq;
    let mut chunk_len = len;
    while chunk_len == MAX_CHUNK {
        read_exact_or_truncated(r, &mut header).await?;
        let (next_len, next_seq) = split_header(header);
        let expected = seq.wrapping_add(1);
        if next_seq != expected {
            return Err(ReadError::OutOfOrder {
                expected,
                got: next_seq,
            });
        }
        if payload.len() + next_len > max_payload {
            return Err(ReadError::TooLarge {
                limit: max_payload,
                seq: next_seq,
            });
        }
        let start = payload.len();
        payload.resize(start + next_len, 0);
        read_exact_or_truncated(r, &mut payload[start..]).await?;
        seq = next_seq;
        chunk_len = next_len;
    }
    Ok(Some(Packet {
        first_seq,
        seq,
        payload,
    }))
}

async fn read_exact_or_truncated<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut [u8],
) -> Result<(), ReadError> {
    match r.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(ReadError::Truncated),
        Err(e) => Err(ReadError::Io(e)),
    }
}

fn split_header(h: [u8; 4]) -> (usize, u8) {
    (u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize, h[3])
}

/// Appends `payload` to `out` as one or more framed packets starting at
/// `*seq`, advancing `*seq` past the last one. A payload that is an exact
/// multiple of [`MAX_CHUNK`] (including a full chunk) ends with an empty
/// packet, as the protocol requires.
pub fn append_framed(out: &mut Vec<u8>, seq: &mut u8, payload: &[u8]) {
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_CHUNK);
        push_header(out, n, *seq);
        out.extend_from_slice(&rest[..n]);
        *seq = seq.wrapping_add(1);
        rest = &rest[n..];
        if n < MAX_CHUNK {
            break;
        }
    }
}

fn push_header(out: &mut Vec<u8>, len: usize, seq: u8) {
    let l = (len as u32).to_le_bytes();
    out.extend_from_slice(&[l[0], l[1], l[2], seq]);
}

/// Builds packets in place in an output buffer: the payload is written
/// directly after a placeholder header, which is filled in (or the payload
/// re-split, for the rare payload above 16 MiB) when the packet ends.
pub struct Framer<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> Framer<'a> {
    pub fn begin(out: &'a mut Vec<u8>) -> Framer<'a> {
        let start = out.len();
        out.extend_from_slice(&[0, 0, 0, 0]);
        Framer { out, start }
    }

    pub fn payload(&mut self) -> &mut Vec<u8> {
        self.out
    }

    /// Finishes the packet with sequence id `*seq` (advanced past it).
    pub fn finish(self, seq: &mut u8) {
        let len = self.out.len() - self.start - 4;
        if len < MAX_CHUNK {
            let l = (len as u32).to_le_bytes();
            self.out[self.start..self.start + 4].copy_from_slice(&[l[0], l[1], l[2], *seq]);
            *seq = seq.wrapping_add(1);
        } else {
            let payload = self.out.split_off(self.start + 4);
            self.out.truncate(self.start);
            append_framed(self.out, seq, &payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(bytes: &[u8], max: usize) -> Vec<Result<Option<Packet>, String>> {
        let mut r = bytes;
        let mut out = Vec::new();
        loop {
            let p = read_packet(&mut r, max, None)
                .await
                .map_err(|e| e.to_string());
            let stop = !matches!(p, Ok(Some(_)));
            out.push(p);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn reads_back_to_back_packets() {
        let mut bytes = Vec::new();
        let mut seq = 0;
        append_framed(&mut bytes, &mut seq, &[0x19, 1, 0, 0, 0]);
        seq = 0;
        append_framed(&mut bytes, &mut seq, b"\x03SELECT 1");
        let got = read_all(&bytes, 1 << 20).await;
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0].as_ref().unwrap().as_ref().unwrap().payload,
            vec![0x19, 1, 0, 0, 0]
        );
        assert_eq!(
            got[1].as_ref().unwrap().as_ref().unwrap().payload,
            b"\x03SELECT 1".to_vec()
        );
        assert_eq!(got[2], Ok(None));
    }

    #[tokio::test]
    async fn reassembles_multi_packet_payloads() {
        for len in [MAX_CHUNK - 1, MAX_CHUNK, MAX_CHUNK + 5, 2 * MAX_CHUNK] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut bytes = Vec::new();
            let mut seq = 3;
            append_framed(&mut bytes, &mut seq, &payload);
            let chunks = len / MAX_CHUNK + 1;
            assert_eq!(bytes.len(), len + 4 * chunks, "len {len}");
            assert_eq!(seq, 3 + chunks as u8);
            let mut r = &bytes[..];
            let p = read_packet(&mut r, 64 << 20, Some(3))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(p.first_seq, 3);
            assert_eq!(p.seq, 3 + chunks as u8 - 1);
            assert!(p.payload == payload, "len {len}");
            assert!(r.is_empty());
            assert_eq!(p.encode(), bytes);
        }
    }

    #[tokio::test]
    async fn enforces_limits_and_order() {
        let mut bytes = Vec::new();
        let mut seq = 0;
        append_framed(&mut bytes, &mut seq, &[7u8; 100]);
        let mut r = &bytes[..];
        assert!(matches!(
            read_packet(&mut r, 99, None).await,
            Err(ReadError::TooLarge { limit: 99, seq: 0 })
        ));
        let mut r = &bytes[..];
        assert!(matches!(
            read_packet(&mut r, 1000, Some(1)).await,
            Err(ReadError::OutOfOrder {
                expected: 1,
                got: 0
            })
        ));
        let mut r = &bytes[..50];
        assert!(matches!(
            read_packet(&mut r, 1000, None).await,
            Err(ReadError::Truncated)
        ));
    }

    #[test]
    fn framer_matches_append_framed() {
        for len in [0, 1, 300, MAX_CHUNK, MAX_CHUNK + 1] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 13) as u8).collect();
            let mut a = vec![9u8];
            let mut sa = 250;
            append_framed(&mut a, &mut sa, &payload);
            let mut b = vec![9u8];
            let mut sb = 250;
            let mut f = Framer::begin(&mut b);
            f.payload().extend_from_slice(&payload);
            f.finish(&mut sb);
            assert!(a == b, "len {len}");
            assert_eq!(sa, sb);
        }
    }
}
