//! [`Zipf`]: which room an op reads. Room rank r (room index r, so
//! `room-0000` is the busiest) is chosen with weight 1/(r+1)^s; the CDF is
//! computed once (a preset has at most 1000 rooms), a draw is one random
//! number and a binary search.

use chat_fixtures::Rng;

/// The exponent PROTOCOL.md names for room choice.
pub const ROOM_EXPONENT: f64 = 1.1;

#[derive(Clone, Debug, PartialEq)]
pub struct Zipf {
    /// `cdf[i]` = P(choice <= i); the last entry is exactly 1.
    cdf: Vec<f64>,
}

impl Zipf {
    /// Over `0..n` (`n > 0`) with exponent `s`.
    pub fn new(n: u32, s: f64) -> Zipf {
        assert!(n > 0, "Zipf over nothing");
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|rank| {
                acc += 1.0 / f64::from(rank).powf(s);
                acc
            })
            .collect();
        cdf.iter_mut().for_each(|c| *c /= acc);
        *cdf.last_mut().expect("n > 0") = 1.0;
        Zipf { cdf }
    }

    pub fn draw(&self, rng: &mut Rng) -> u32 {
        let u = rng.unit();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1) as u32
    }

    /// P(choice == i).
    #[cfg(test)]
    pub fn probability(&self, i: usize) -> f64 {
        self.cdf[i] - if i == 0 { 0.0 } else { self.cdf[i - 1] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_is_increasing_and_ends_at_one() {
        for n in [1, 2, 5, 100, 1000] {
            let z = Zipf::new(n, ROOM_EXPONENT);
            assert_eq!(z.cdf.len(), n as usize);
            assert!(z.cdf.windows(2).all(|w| w[0] < w[1]), "n={n}");
            assert_eq!(*z.cdf.last().unwrap(), 1.0);
            assert!((0..n as usize - 1).all(|i| z.probability(i) > z.probability(i + 1)));
        }
    }

    #[test]
    fn weights_are_one_over_rank_to_the_s() {
        // Five rooms: H(5, 1.1) = 1 + 2^-1.1 + 3^-1.1 + 4^-1.1 + 5^-1.1.
        let z = Zipf::new(5, 1.1);
        let h: f64 = (1..=5).map(|r| 1.0 / f64::from(r).powf(1.1)).sum();
        for i in 0..5 {
            let want = 1.0 / f64::from(i as u32 + 1).powf(1.1) / h;
            assert!((z.probability(i) - want).abs() < 1e-12, "room {i}");
        }
        assert!(
            (z.probability(0) - 0.4645).abs() < 1e-3,
            "{}",
            z.probability(0)
        );
    }

    #[test]
    fn draws_follow_the_cdf_and_stay_in_range() {
        let z = Zipf::new(1000, ROOM_EXPONENT);
        let mut rng = Rng::new(9);
        let mut hits = vec![0u32; 1000];
        for _ in 0..20_000 {
            hits[z.draw(&mut rng) as usize] += 1;
        }
        // Rank 1 of 1000 at s = 1.1 has probability ~0.16.
        assert!(
            (2_800..3_600).contains(&hits[0]),
            "room 0 drawn {} times",
            hits[0]
        );
        assert!(hits[0] > hits[1] && hits[1] > hits[9]);
        assert!(hits[500..].iter().sum::<u32>() > 0, "the tail is reachable");
        let one = Zipf::new(1, ROOM_EXPONENT);
        assert!((0..100).all(|_| one.draw(&mut rng) == 0));
    }
}
