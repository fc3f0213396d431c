//! The C2SP `tlog-tiles` read layout, served from the tree's stored levels.
//!
//! A tile at level `L` and index `N` holds the hashes of tree level `8·L` (level 0 = leaves) at
//! indices `256·N .. 256·N + W`; a full tile has `W = 256` and is immutable, a partial tile
//! (`.p/W`) covers the right edge of the tree. Entry bundles hold the entries `256·N ..` as
//! `u16 length (big-endian) ‖ entry`.

use crate::merkle::{Hash, Tree};

/// Hashes (or entries) per full tile.
pub const WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const HEIGHT: u32 = 8;

/// A parsed tile request: `None` width means a full tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRef {
    pub index: u64,
    pub width: Option<u64>,
}

/// Parses the path after `/tile/<L>/` or `/tile/entries/`: `x001/x234/067[.p/W]`.
pub fn parse_index(path: &str) -> Option<TileRef> {
    let (digits, width) = match path.split_once(".p/") {
        Some((d, w)) => {
            let w: u64 = parse_decimal(w)?;
            if !(1..WIDTH).contains(&w) {
                return None;
            }
            (d, Some(w))
        }
        None => (path, None),
    };
    let parts: Vec<&str> = digits.split('/').collect();
    let (last, init) = parts.split_last()?;
    let mut index: u64 = 0;
    for (k, part) in init.iter().enumerate() {
        let d = part.strip_prefix('x')?;
        if d.len() != 3 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // The first element may not be x000: the encoding of each index is unique.
        if k == 0 && d == "000" {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(d.parse().ok()?)?;
    }
    if last.len() != 3 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    index = index.checked_mul(1000)?.checked_add(last.parse().ok()?)?;
    Some(TileRef { index, width })
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

/// The path encoding of a tile index: groups of three digits, all but the last prefixed `x`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// How many hashes the tile `(level, index)` holds in a tree of `size` leaves (0 if none).
pub fn available_width(level: u32, index: u64, size: u64) -> u64 {
    let shift = HEIGHT * level;
    let nodes = if shift >= 64 { 0 } else { size >> shift };
    nodes.saturating_sub(index.saturating_mul(WIDTH)).min(WIDTH)
}

/// The bytes of a hash tile, if the tree holds that many hashes there. A request for a partial
/// tile the tree has since completed is still answered (its hashes never change).
pub fn hash_tile(tree: &Tree, level: u32, t: TileRef) -> Option<Vec<u8>> {
    hash_tile_within(tree, tree.size(), level, t)
}

/// [`hash_tile`] of the tree's first `size` leaves (a published checkpoint's), which the tree
/// may have grown past.
pub fn hash_tile_within(tree: &Tree, size: u64, level: u32, t: TileRef) -> Option<Vec<u8>> {
    let want = t.width.unwrap_or(WIDTH);
    if size > tree.size() || available_width(level, t.index, size) < want {
        return None;
    }
    let h = (HEIGHT * level) as usize;
    let start = t.index * WIDTH;
    let mut out = Vec::with_capacity(want as usize * 32);
    for i in start..start + want {
        let node: &Hash = tree.node(h, i)?;
        out.extend_from_slice(node);
    }
    Some(out)
}

/// The bytes of an entry bundle from the entries `256·index ..`.
pub fn entry_bundle<'a>(entries: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        // Entries are at most 65,535 bytes (the election's MAX_ENTRY_SIZE), so this never truncates.
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Splits an entry bundle; `None` if it is not a sequence of length-prefixed entries.
pub fn parse_bundle(mut b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (len, rest) = b.split_first_chunk::<2>()?;
        let n = u16::from_be_bytes(*len) as usize;
        if rest.len() < n {
            return None;
        }
        out.push(rest[..n].to_vec());
        b = &rest[n..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_round_trips_and_is_unique() {
        for (n, s) in [
            (0, "000"),
            (67, "067"),
            (1234067, "x001/x234/067"),
            (1000, "x001/000"),
        ] {
            assert_eq!(encode_index(n), s);
            assert_eq!(
                parse_index(s),
                Some(TileRef {
                    index: n,
                    width: None
                })
            );
        }
        assert_eq!(
            parse_index("x001/000.p/17"),
            Some(TileRef {
                index: 1000,
                width: Some(17)
            })
        );
        for bad in [
            "",
            "67",
            "0067",
            "x000/067",
            "x01/067",
            "001/067",
            "067.p/0",
            "067.p/256",
            "067.p/017",
            "067/",
        ] {
            assert_eq!(parse_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn tiles_hold_the_right_levels() {
        let mut t = Tree::new();
        for i in 0u32..(256 * 256 + 300) {
            t.push(crate::merkle::leaf_hash(&i.to_be_bytes()));
        }
        let full = hash_tile(
            &t,
            0,
            TileRef {
                index: 1,
                width: None,
            },
        )
        .unwrap();
        assert_eq!(&full[..32], t.leaf(256).unwrap());
        let l1 = hash_tile(
            &t,
            1,
            TileRef {
                index: 0,
                width: None,
            },
        )
        .unwrap();
        assert_eq!(&l1[32..64], t.node(8, 1).unwrap());
        // Level 1 has 257 complete nodes: tile 1 is partial with width 1.
        assert_eq!(available_width(1, 1, t.size()), 1);
        assert!(hash_tile(
            &t,
            1,
            TileRef {
                index: 1,
                width: None
            }
        )
        .is_none());
        assert!(hash_tile(
            &t,
            1,
            TileRef {
                index: 1,
                width: Some(1)
            }
        )
        .is_some());
        assert!(hash_tile(
            &t,
            1,
            TileRef {
                index: 1,
                width: Some(2)
            }
        )
        .is_none());
        // Level 2's first tile (tree level 16) is partial: one complete 65,536-leaf subtree.
        assert_eq!(
            hash_tile(
                &t,
                2,
                TileRef {
                    index: 0,
                    width: Some(1)
                }
            )
            .unwrap(),
            t.node(16, 0).unwrap().to_vec()
        );
    }
}
