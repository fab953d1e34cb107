//! Seeded, stateless randomness: every choice is a pure function of the run's
//! seed and the op's sequence number, so worker threads need no lock and a
//! run with the same `--seed` repeats.

/// SplitMix64's finaliser: a well-spread 64-bit hash of `x`.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A hash of `(seed, salt, seq)`: independent streams per salt.
pub(crate) fn hash3(seed: u64, salt: u64, seq: u64) -> u64 {
    mix(mix(mix(seed) ^ salt) ^ seq)
}

/// A seeded permutation of `0..n` (a Feistel network over the next power of
/// four, walking cycles back into range): the `shuffle` pick without storing
/// or re-shuffling a permutation, so any thread computes position `i` of pass
/// `key` on its own.
pub(crate) fn permute(i: u64, n: u64, key: u64) -> u64 {
    debug_assert!(i < n);
    if n <= 1 {
        return 0;
    }
    let bits = (64 - (n - 1).leading_zeros()).max(2);
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut x = i;
    loop {
        let (mut left, mut right) = (x >> half, x & mask);
        for round in 0..4u64 {
            let f = mix(key ^ round.wrapping_mul(0x632b_e59b_d9b4_e019) ^ right) & mask;
            (left, right) = (right, left ^ f);
        }
        x = (left << half) | right;
        // The domain is < 4n, so this ends after a few rounds on average.
        if x < n {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_is_a_permutation_that_depends_on_the_key() {
        for n in [1u64, 2, 3, 5, 16, 17, 100, 1000] {
            let mut seen: Vec<u64> = (0..n).map(|i| permute(i, n, 42)).collect();
            let order = seen.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n={n}");
            if n >= 16 {
                let other: Vec<u64> = (0..n).map(|i| permute(i, n, 43)).collect();
                assert_ne!(order, other, "n={n}: another key, another order");
                assert_ne!(order, (0..n).collect::<Vec<_>>(), "n={n}: shuffled");
            }
        }
    }

    #[test]
    fn hash3_streams_differ_by_salt_and_seed() {
        assert_ne!(hash3(1, 0, 5), hash3(1, 1, 5));
        assert_ne!(hash3(1, 0, 5), hash3(2, 0, 5));
        assert_eq!(hash3(1, 0, 5), hash3(1, 0, 5));
    }
}
