//! Small robust statistics and the RITA-style dispersion scores (detection-anchors.md
//! §2.2, §9.5). Every function accepts any input (empty, NaN-free or not) and returns a
//! value in the documented range.

/// The `q` quantile (0 ≤ q ≤ 1, linear interpolation) of sorted finite values; 0 when
/// empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let w = pos - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

/// Sorts finite values (NaNs dropped).
pub fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Median; 0 when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    quantile_sorted(&sorted(values), 0.5)
}

/// Median absolute deviation around the median; 0 when empty.
pub fn mad(values: &[f64]) -> f64 {
    let m = median(values.iter().copied());
    median(values.iter().map(|x| (x - m).abs()))
}

/// RITA's MAD score: `1 − MAD/median`, clipped to [0, 1] (1 = no dispersion). 0 when
/// empty or when the median is 0 with dispersion; 1 when all values are equal.
pub fn mad_score(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let m = median(values.iter().copied());
    let d = mad(values);
    if d == 0.0 {
        return 1.0;
    }
    if m <= 0.0 {
        return 0.0;
    }
    (1.0 - d / m).clamp(0.0, 1.0)
}

/// RITA's skew score: `1 − |Bowley skew|`; the skew counts only when the interquartile
/// range reaches `iqr_gate` (and the median differs from both quartiles), else 1.
pub fn skew_score(values: &[f64], iqr_gate: f64) -> f64 {
    let s = sorted(values.iter().copied());
    if s.is_empty() {
        return 0.0;
    }
    let (q1, q2, q3) = (
        quantile_sorted(&s, 0.25),
        quantile_sorted(&s, 0.5),
        quantile_sorted(&s, 0.75),
    );
    let iqr = q3 - q1;
    if iqr < iqr_gate || iqr <= 0.0 || q2 == q1 || q2 == q3 {
        return 1.0;
    }
    (1.0 - ((q3 + q1 - 2.0 * q2) / iqr).abs()).clamp(0.0, 1.0)
}

/// RITA's TS/DS score: the mean of the skew score and the MAD score.
pub fn dispersion_score(values: &[f64], iqr_gate: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    0.5 * (skew_score(values, iqr_gate) + mad_score(values))
}

/// Share of gaps within ±10 % of an integer multiple of the modal gap (thinned
/// sampling turns a period T into multiples of T). 0 when empty.
pub fn harmonic_share(gaps: &[f64]) -> f64 {
    let s = sorted(gaps.iter().copied().filter(|g| *g > 0.0));
    if s.is_empty() {
        return 0.0;
    }
    // The modal gap: the smallest gap that at least a quarter of the gaps sit near
    // (robust to one odd short gap); fall back to the median.
    let base = s
        .iter()
        .copied()
        .find(|&b| s.iter().filter(|&&g| (g - b).abs() <= 0.1 * b).count() * 4 >= s.len())
        .unwrap_or_else(|| quantile_sorted(&s, 0.5));
    if base <= 0.0 {
        return 0.0;
    }
    let hit = s
        .iter()
        .filter(|&&g| {
            let k = (g / base).round().max(1.0);
            (g - k * base).abs() <= 0.1 * k * base
        })
        .count();
    hit as f64 / s.len() as f64
}

/// Coefficient of variation; 0 when empty or the mean is 0.
pub fn cv(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean <= 0.0 {
        return 0.0;
    }
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() / mean
}

/// Jaccard index of two sorted, deduplicated slices (1 when both are empty).
pub fn jaccard_sorted<T: Ord>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_period_scores_one_and_jitter_scores_less() {
        let steady = vec![60.0; 20];
        assert_eq!(dispersion_score(&steady, 10.0), 1.0);
        let noisy: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 5.0 } else { 300.0 })
            .collect();
        assert!(dispersion_score(&noisy, 10.0) < 0.6);
    }

    #[test]
    fn thinned_period_is_recognised_as_harmonics() {
        let gaps = [60.0, 120.0, 60.0, 180.0, 61.0, 119.0, 60.0];
        assert_eq!(harmonic_share(&gaps), 1.0);
        let random = [7.0, 61.0, 13.0, 250.0, 33.0, 97.0];
        assert!(harmonic_share(&random) < 0.7);
    }

    #[test]
    fn empty_inputs_do_not_panic() {
        assert_eq!(median([]), 0.0);
        assert_eq!(mad_score(&[]), 0.0);
        assert_eq!(harmonic_share(&[]), 0.0);
        assert_eq!(cv(&[]), 0.0);
        assert_eq!(jaccard_sorted::<u8>(&[], &[]), 1.0);
        assert_eq!(jaccard_sorted(&[1, 2, 3], &[2, 3, 4]), 0.5);
    }
}
