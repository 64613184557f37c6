//! Small-cell suppression that holds.
//!
//! A report is one row per period: a count per column (category, constituency or outcome) and
//! the period's total, which is the sum of its cells. No total across periods is shown, so a
//! row's suppression depends on that row alone: two reports over overlapping ranges show the
//! same period the same way, and nothing can be learnt by subtracting one from the other.
//!
//! The rule, for a minimum count `m` (never below [`MIN_COUNT_FLOOR`]):
//! 1. **Zeros** are shown: a zero points at nobody, and a hidden zero would protect nothing,
//!    because hiding it does not widen what the other hidden cells could be.
//! 2. **Primary.** A cell from 1 to `m - 1` is hidden. So is a total from 1 to `m - 1`; then the
//!    period's hidden cells are bounded by nothing that is shown.
//! 3. **Secondary.** With the total shown, the hidden cells sum to the total minus the shown
//!    ones, and each of them can be anything from 0 to that sum (the others take the rest), so
//!    a hidden cell's feasible range is that sum wide, or zero wide if it is the only hidden
//!    cell. While one cell alone is hidden, or the hidden cells sum to less than `m`, the
//!    smallest shown non-zero cell is hidden too (the leftmost, on a tie).
//!
//! So every hidden cell's feasible range, given the shown numbers and non-negative counts, is
//! at least `m` wide. The tests check it by solving each table's shown numbers independently.

/// The lowest `--min-count` the report accepts.
pub const MIN_COUNT_FLOOR: u64 = 3;

/// What a row shows once suppressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    /// Whether each cell is hidden.
    pub cells: Vec<bool>,
    /// Whether the total is hidden.
    pub total: bool,
}

/// Suppresses one row of `cells` (its total is their sum) for minimum count `m`.
pub fn suppress_row(cells: &[u64], m: u64) -> Suppressed {
    let total: u64 = cells.iter().sum();
    let small = |v: u64| v > 0 && v < m;
    let mut hidden: Vec<bool> = cells.iter().map(|&v| small(v)).collect();
    if small(total) {
        return Suppressed {
            cells: hidden,
            total: true,
        };
    }
    loop {
        let count = hidden.iter().filter(|&&h| h).count();
        let sum: u64 = cells
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| **h)
            .map(|(v, _)| v)
            .sum();
        if count == 0 || (count >= 2 && sum >= m) {
            return Suppressed {
                cells: hidden,
                total: false,
            };
        }
        let next = cells
            .iter()
            .enumerate()
            .filter(|&(i, &v)| !hidden[i] && v > 0)
            .min_by_key(|&(i, &v)| (v, i))
            .map(|(i, _)| i);
        match next {
            Some(i) => hidden[i] = true,
            // Every non-zero cell is hidden and they still sum below m: impossible with a
            // shown total of at least m, but hiding the total then holds too.
            None => {
                return Suppressed {
                    cells: hidden,
                    total: true,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The feasible range of each hidden cell, found by enumerating every assignment of
    /// non-negative counts to the hidden cells that agrees with what is shown (up to `cap`
    /// each, when the total is hidden and nothing bounds them).
    fn ranges(cells: &[u64], shown: &Suppressed, cap: u64) -> Vec<(u64, u64)> {
        let hidden = (0..cells.len()).filter(|&i| shown.cells[i]).count();
        if hidden == 0 {
            return Vec::new();
        }
        let shown_sum: u64 = (0..cells.len())
            .filter(|&i| !shown.cells[i])
            .map(|i| cells[i])
            .sum();
        // With the total shown, the hidden cells sum to `rest`: the last is what the others
        // leave. With it hidden, each is free up to `cap`.
        let rest = (!shown.total).then(|| cells.iter().sum::<u64>() - shown_sum);
        let free = if rest.is_some() { hidden - 1 } else { hidden };
        let bound = rest.unwrap_or(cap);
        let mut lo = vec![u64::MAX; hidden];
        let mut hi = vec![0; hidden];
        let mut values = vec![0u64; free];
        loop {
            let sum: u64 = values.iter().sum();
            let last = match rest {
                Some(r) if sum <= r => Some(r - sum),
                Some(_) => None,
                None => Some(0),
            };
            if let Some(last) = last {
                let all = values.iter().copied().chain(rest.map(|_| last));
                for (k, v) in all.enumerate() {
                    lo[k] = lo[k].min(v);
                    hi[k] = hi[k].max(v);
                }
            }
            // Next assignment, as an odometer with digits 0..=bound.
            let mut k = 0;
            loop {
                if k == values.len() {
                    return lo.into_iter().zip(hi).collect();
                }
                if values[k] < bound {
                    values[k] += 1;
                    break;
                }
                values[k] = 0;
                k += 1;
            }
        }
    }

    fn assert_holds(cells: &[u64], m: u64) {
        let shown = suppress_row(cells, m);
        for (i, &v) in cells.iter().enumerate() {
            if v > 0 && v < m {
                assert!(shown.cells[i], "{cells:?}: cell {i} is small and shown");
            }
            if v == 0 {
                assert!(!shown.cells[i], "{cells:?}: zero {i} is hidden");
            }
        }
        let total: u64 = cells.iter().sum();
        if total > 0 && total < m {
            assert!(shown.total, "{cells:?}: the total is small and shown");
        }
        for (lo, hi) in ranges(cells, &shown, 2 * m) {
            assert!(
                hi - lo >= m,
                "{cells:?} as {shown:?}: a range [{lo}, {hi}] is narrower than {m}"
            );
        }
    }

    #[test]
    fn a_lone_small_cell_takes_the_smallest_other_with_it() {
        // Arrange: one small cell among large ones.
        let cells = [12, 2, 0, 7, 30];

        // Act
        let shown = suppress_row(&cells, 5);

        // Assert: 2 and the next smallest non-zero cell, 7, are hidden; the zero is shown.
        assert_eq!(shown.cells, [false, true, false, true, false]);
        assert!(!shown.total);
        assert_holds(&cells, 5);
    }

    #[test]
    fn two_small_cells_that_sum_below_the_minimum_take_a_third() {
        // Arrange
        let cells = [1, 2, 9, 20];

        // Act
        let shown = suppress_row(&cells, 5);

        // Assert: 1 + 2 < 5, so 9 is hidden too.
        assert_eq!(shown.cells, [true, true, true, false]);
        assert_holds(&cells, 5);
    }

    #[test]
    fn a_small_period_hides_its_total_and_shows_its_zeros() {
        // Arrange
        let cells = [0, 1, 3, 0];

        // Act
        let shown = suppress_row(&cells, 5);

        // Assert
        assert_eq!(shown.cells, [false, true, true, false]);
        assert!(shown.total);
        assert_holds(&cells, 5);
    }

    #[test]
    fn a_row_with_nothing_small_shows_everything() {
        let shown = suppress_row(&[5, 0, 11], 5);
        assert_eq!(shown.cells, [false, false, false]);
        assert!(!shown.total);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn every_hidden_cell_ranges_at_least_the_minimum(
            cells in proptest::collection::vec(0u64..14, 1..5),
            m in 3u64..7,
        ) {
            assert_holds(&cells, m);
        }
    }
}
