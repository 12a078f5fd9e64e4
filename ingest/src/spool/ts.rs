//! Just enough MPEG-TS to judge a chunk the daemon was writing when it died: are its whole
//! 188-byte packets sound, and which presentation times do they span?

/// The size of a transport stream packet.
pub const PACKET: usize = 188;
const SYNC: u8 = 0x47;
/// PTS runs at 90 kHz.
const PTS_HZ: u64 = 90_000;
const PTS_WRAP: u64 = 1 << 33;

/// What a scan of a chunk's bytes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Every whole packet is in sync. `valid_len` is the length up to the last whole packet;
    /// `duration_ns` is the longest elementary stream's PTS span plus one frame, or `None`
    /// when no packet carries a timestamped PES header (nothing playable was written).
    Media {
        valid_len: u64,
        duration_ns: Option<u64>,
    },
    /// A whole packet at `offset` does not start with the sync byte: not a chunk we wrote, or
    /// damaged in the middle.
    OutOfSync { offset: u64 },
}

/// Scans the whole packets of `bytes`.
pub fn scan(bytes: &[u8]) -> Scan {
    let whole = bytes.len() / PACKET * PACKET;
    let mut streams: std::collections::BTreeMap<u16, Vec<u64>> = Default::default();
    for (n, packet) in bytes[..whole].chunks_exact(PACKET).enumerate() {
        if packet[0] != SYNC {
            return Scan::OutOfSync {
                offset: (n * PACKET) as u64,
            };
        }
        if let Some((pid, pts)) = pes_pts(packet) {
            streams.entry(pid).or_default().push(pts);
        }
    }
    let duration_ns = streams
        .values()
        .filter_map(|times| span_ticks(times))
        .max()
        .map(|ticks| ticks * 1_000_000_000 / PTS_HZ);
    Scan::Media {
        valid_len: whole as u64,
        duration_ns,
    }
}

/// The PID and PTS of a packet that starts a PES packet with a timestamp.
fn pes_pts(packet: &[u8]) -> Option<(u16, u64)> {
    let payload_start = packet[1] & 0x40 != 0;
    let pid = u16::from(packet[1] & 0x1f) << 8 | u16::from(packet[2]);
    let adaptation = (packet[3] >> 4) & 0x3;
    if !payload_start || pid == 0 || adaptation & 0x1 == 0 {
        return None;
    }
    let offset = if adaptation & 0x2 != 0 {
        5 + usize::from(packet[4])
    } else {
        4
    };
    let pes = packet.get(offset..)?;
    if pes.len() < 14 || pes[..3] != [0, 0, 1] {
        return None;
    }
    let stream_id = pes[3];
    let has_pts = pes[7] & 0x80 != 0;
    if !(0xc0..=0xef).contains(&stream_id) || !has_pts {
        return None;
    }
    let p = &pes[9..14];
    Some((
        pid,
        (u64::from(p[0] >> 1) & 0x7) << 30
            | u64::from(p[1]) << 22
            | u64::from(p[2] >> 1) << 15
            | u64::from(p[3]) << 7
            | u64::from(p[4] >> 1),
    ))
}

/// The span of one stream's timestamps in 90 kHz ticks, plus one frame (the smallest step
/// between timestamps), so a chunk of one frame lasts one frame.
fn span_ticks(times: &[u64]) -> Option<u64> {
    let first = *times.first()?;
    // Unwrap the 33-bit counter relative to the first timestamp.
    let mut unwrapped: Vec<u64> = times
        .iter()
        .map(|&t| {
            if t + PTS_WRAP / 2 < first {
                t + PTS_WRAP
            } else {
                t
            }
        })
        .collect();
    unwrapped.sort_unstable();
    unwrapped.dedup();
    let frame = unwrapped.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(0);
    Some(unwrapped.last()? - unwrapped.first()? + frame)
}

/// A packet starting a video PES with `pts`, for tests.
#[cfg(test)]
pub(crate) fn pes_packet(pid: u16, pts: u64) -> Vec<u8> {
    let mut p = vec![SYNC, 0x40 | (pid >> 8) as u8, pid as u8, 0x10];
    p.extend_from_slice(&[0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5]);
    p.extend_from_slice(&[
        0x21 | ((pts >> 29) & 0x0e) as u8,
        (pts >> 22) as u8,
        0x01 | ((pts >> 14) & 0xfe) as u8,
        (pts >> 7) as u8,
        0x01 | ((pts << 1) & 0xfe) as u8,
    ]);
    p.resize(PACKET, 0xff);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_last_packet_is_left_out_and_the_span_counts_one_frame_more() {
        let mut bytes: Vec<u8> = (0..30u64)
            .flat_map(|n| pes_packet(0x100, 126_000 + n * 3000))
            .collect();
        bytes.extend_from_slice(&[SYNC, 1, 2]);
        assert_eq!(
            scan(&bytes),
            Scan::Media {
                valid_len: 30 * PACKET as u64,
                duration_ns: Some(1_000_000_000)
            }
        );
    }

    #[test]
    fn a_file_without_timestamps_has_no_duration() {
        assert_eq!(
            scan(&[0u8; 100]),
            Scan::Media {
                valid_len: 0,
                duration_ns: None
            }
        );
    }

    #[test]
    fn a_packet_out_of_sync_is_reported() {
        let mut bytes = pes_packet(0x100, 0);
        bytes.extend(vec![0u8; PACKET]);
        assert_eq!(scan(&bytes), Scan::OutOfSync { offset: 188 });
    }
}
