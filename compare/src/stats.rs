//! The two significance tests a comparison needs, as plain functions.
//!
//! - [`mann_whitney_u`]: a rank test over two samples of per-second figures
//!   (benchstat's choice: no assumption about their distribution). Exact
//!   for small samples (with ties, over every split of the ranks), the
//!   normal approximation with tie and continuity corrections for large
//!   ones — as go-moremath's `MannWhitneyUTest`, which benchstat calls.
//! - [`two_proportions`]: a z-test of two rates (failed of attempted), which
//!   counts every op rather than a handful of seconds.
//!
//! Both return a two-sided p-value: the chance of a difference at least this
//! large between two samples of one and the same population.

/// The p-value below which a change counts as significant (benchstat's default).
pub const ALPHA: f64 = 0.05;

/// Exact U distribution up to this many values per side (without ties).
const EXACT_MAX: usize = 50;

/// With ties, the exact p-value by trying every split of the ranks up to
/// this many values in all (C(20, 10) = 184,756 splits); the normal
/// approximation above it.
const ENUMERATE_MAX: usize = 20;

/// Two-sided p-value of the Mann–Whitney U test of `x` against `y`; `None`
/// when either sample is empty.
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<f64> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let ranked = ranks(x, y);
    let rank_sum_x: f64 = ranked.ranks[..n1].iter().sum();
    let u = rank_sum_x - (n1 * (n1 + 1)) as f64 / 2.0;
    if ranked.tie_term == 0.0 && n1 <= EXACT_MAX && n2 <= EXACT_MAX {
        return Some(exact_p(u.round() as usize, n1, n2));
    }
    if n1 + n2 <= ENUMERATE_MAX {
        return Some(permutation_p(&ranked.ranks, n1, rank_sum_x));
    }
    Some(normal_p(u, n1, n2, ranked.tie_term))
}

/// The smallest p-value [`mann_whitney_u`] can give for samples of these
/// sizes: when it is above [`ALPHA`], no difference can be significant (three
/// seconds against three can never be: 0.1).
pub fn min_p(n1: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    if n1 <= EXACT_MAX && n2 <= EXACT_MAX {
        exact_p(0, n1, n2)
    } else {
        normal_p(0.0, n1, n2, 0.0)
    }
}

/// Two-sided p-value of the difference between the rates `x1/n1` and
/// `x2/n2` (pooled z-test); `None` when either side attempted nothing.
pub fn two_proportions(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if se == 0.0 {
        // Both rates 0 (or both 1): no difference at all.
        return Some(1.0);
    }
    let z = (x2 as f64 / n2f - x1 as f64 / n1f) / se;
    Some(two_sided_normal(z))
}

struct Ranked {
    /// The rank of each value of `x` then `y`, ties given their mean rank.
    ranks: Vec<f64>,
    /// Σ (t³ − t) over groups of t tied values (0 without ties).
    tie_term: f64,
}

fn ranks(x: &[f64], y: &[f64]) -> Ranked {
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&a, &b| all[a].total_cmp(&all[b]));
    let mut ranks = vec![0.0; all.len()];
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && all[order[end]] == all[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = mean_rank;
        }
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    Ranked { ranks, tie_term }
}

/// Exact two-sided p-value of U = `u` for samples of `n1` and `n2` distinct
/// values: 2 · min(P(U ≤ u), P(U ≥ u)), at most 1.
fn exact_p(u: usize, n1: usize, n2: usize) -> f64 {
    let counts = u_counts(n1, n2);
    let total: f64 = counts.iter().sum();
    let u = u.min(counts.len() - 1);
    let below: f64 = counts[..=u].iter().sum();
    let above: f64 = counts[u..].iter().sum();
    (2.0 * below.min(above) / total).min(1.0)
}

/// How many orderings of `n1` and `n2` distinct values give each U
/// (0..=n1·n2): the coefficients of the Gaussian binomial
/// ∏ᵢ₌₁ⁿ¹ (1 − q^(n2+i)) / (1 − qⁱ).
fn u_counts(n1: usize, n2: usize) -> Vec<f64> {
    let len = n1 * n2 + 1;
    let mut c = vec![0.0; len];
    c[0] = 1.0;
    for i in 1..=n1 {
        // × (1 − q^(n2+i)), from the top so each term reads the old value.
        let shift = n2 + i;
        for k in (shift..len).rev() {
            c[k] -= c[k - shift];
        }
        // ÷ (1 − qⁱ): a running sum with stride i.
        for k in i..len {
            c[k] += c[k - i];
        }
    }
    c
}

/// Exact two-sided p-value with ties: the share of all ways to pick `n1` of
/// the (mean) `ranks` whose rank sum lies at least as far from its mean as
/// the observed `rank_sum`.
fn permutation_p(ranks: &[f64], n1: usize, rank_sum: f64) -> f64 {
    let n = ranks.len();
    let mean = n1 as f64 * (n + 1) as f64 / 2.0;
    let observed = (rank_sum - mean).abs() - 1e-9;
    let (mut extreme, mut total) = (0u64, 0u64);
    let mut pick: Vec<usize> = (0..n1).collect();
    loop {
        let sum: f64 = pick.iter().map(|&i| ranks[i]).sum();
        total += 1;
        if (sum - mean).abs() >= observed {
            extreme += 1;
        }
        // The next combination in lexicographic order.
        let Some(i) = (0..n1).rev().find(|&i| pick[i] < n - n1 + i) else {
            break;
        };
        pick[i] += 1;
        for j in i + 1..n1 {
            pick[j] = pick[j - 1] + 1;
        }
    }
    extreme as f64 / total as f64
}

/// Two-sided p-value by the normal approximation, with the tie correction of
/// the variance and a continuity correction.
fn normal_p(u: f64, n1: usize, n2: usize, tie_term: f64) -> f64 {
    let (n1, n2) = (n1 as f64, n2 as f64);
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        // Every value equal: nothing to tell apart.
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    two_sided_normal(z)
}

/// P(|Z| ≥ |z|) for a standard normal Z.
fn two_sided_normal(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tolerance: f64) -> bool {
        (got - want).abs() <= tolerance
    }

    #[test]
    fn u_counts_are_the_orderings_of_two_samples() {
        // 2 against 2: U = 0,1,2,3,4 in 1,1,2,1,1 of the 6 orderings.
        assert_eq!(u_counts(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        // Every ordering counted once: C(n1+n2, n1).
        let total: f64 = u_counts(5, 7).iter().sum();
        assert_eq!(total, 792.0);
    }

    #[test]
    fn mann_whitney_table() {
        // (name, x, y, expected p, tolerance); reference values from
        // scipy.stats.mannwhitneyu(x, y, alternative="two-sided") (exact
        // without ties, asymptotic with continuity correction with ties).
        type Row<'a> = (&'a str, &'a [f64], &'a [f64], f64, f64);
        let table: &[Row] = &[
            (
                "3 against 3, apart: the smallest p possible is 0.1",
                &[1.0, 2.0, 3.0],
                &[4.0, 5.0, 6.0],
                0.1,
                1e-12,
            ),
            (
                "5 against 5, apart",
                &[1.0, 2.0, 3.0, 4.0, 5.0],
                &[6.0, 7.0, 8.0, 9.0, 10.0],
                2.0 / 252.0,
                1e-12,
            ),
            (
                "5 against 5, interleaved",
                &[1.0, 3.0, 5.0, 7.0, 9.0],
                &[2.0, 4.0, 6.0, 8.0, 10.0],
                0.690_476_190_476_190_5,
                1e-12,
            ),
            (
                "order of the sides does not matter",
                &[6.0, 7.0, 8.0, 9.0, 10.0],
                &[1.0, 2.0, 3.0, 4.0, 5.0],
                2.0 / 252.0,
                1e-12,
            ),
            (
                "ties, small: exact over every split of the ranks",
                &[1.0, 1.0, 1.0],
                &[9.0, 9.0, 9.0],
                0.1,
                1e-12,
            ),
            (
                "ties, small, interleaved (scipy permutation_test over the ranks)",
                &[1.0, 2.0, 2.0, 3.0],
                &[2.0, 3.0, 3.0, 4.0, 4.0],
                0.103_174_603_174_603_17,
                1e-12,
            ),
            (
                "ties, large: normal approximation with corrections",
                &[1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 1.0, 2.0, 2.0, 3.0, 3.0],
                &[3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 3.0, 4.0, 4.0, 5.0, 5.0],
                0.000_482_492_592_482_995_8,
                1e-9,
            ),
            (
                "identical samples",
                &[2.0, 2.0, 2.0],
                &[2.0, 2.0, 2.0],
                1.0,
                0.0,
            ),
        ];
        for (name, x, y, want, tolerance) in table {
            let got = mann_whitney_u(x, y).unwrap();
            assert!(
                close(got, *want, *tolerance),
                "{name}: p = {got}, want {want}"
            );
        }
        assert_eq!(mann_whitney_u(&[], &[1.0]), None, "an empty side");
    }

    #[test]
    fn large_samples_use_the_normal_approximation() {
        let x: Vec<f64> = (0..60).map(|i| i as f64).collect();
        let shifted: Vec<f64> = x.iter().map(|v| v + 30.0).collect();
        let same: Vec<f64> = x.iter().map(|v| v + 0.5).collect();
        assert!(mann_whitney_u(&x, &shifted).unwrap() < 1e-4);
        assert!(mann_whitney_u(&x, &same).unwrap() > 0.8);
    }

    #[test]
    fn min_p_says_when_a_sample_is_too_small_to_tell() {
        assert!(min_p(3, 3) > ALPHA, "three seconds a side can never differ");
        assert!(min_p(4, 4) < ALPHA);
        assert_eq!(min_p(0, 5), 1.0);
    }

    #[test]
    fn two_proportions_table() {
        type Row<'a> = (&'a str, (u64, u64, u64, u64), f64, f64);
        // Reference: statsmodels proportions_ztest (pooled, two-sided).
        let table: &[Row] = &[
            ("none failed either side", (0, 1000, 0, 1000), 1.0, 0.0),
            (
                "0.1% against 0.5%",
                (10, 10_000, 50, 10_000),
                2.319e-7,
                1e-9,
            ),
            (
                "1% against 1.2% of 1000",
                (10, 1000, 12, 1000),
                0.668_09,
                1e-4,
            ),
        ];
        for (name, (x1, n1, x2, n2), want, tolerance) in table {
            let got = two_proportions(*x1, *n1, *x2, *n2).unwrap();
            assert!(
                close(got, *want, *tolerance),
                "{name}: p = {got}, want {want}"
            );
        }
        assert_eq!(two_proportions(0, 0, 1, 10), None);
    }
}
