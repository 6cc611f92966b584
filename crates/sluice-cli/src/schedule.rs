//! Largest-first scheduling for scans of many packages.
//!
//! A scan's wall time is at least its largest package's time: started last,
//! one big sdist keeps one core busy while the others idle. Handing the
//! jobs out biggest first (longest-processing-time order) keeps every core
//! busy to the end. Results come back in the input order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Run `f` over `items` on `pool`, largest `size` first, and return the
/// results in the order of `items`.
pub fn largest_first<T, R, S, F>(pool: &rayon::ThreadPool, items: &[T], size: S, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    S: Fn(&T) -> u64,
    F: Fn(&T) -> R + Sync,
{
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: equal sizes keep their input order.
    order.sort_by_key(|&i| std::cmp::Reverse(size(&items[i])));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    pool.scope(|s| {
        for _ in 0..pool.current_num_threads() {
            s.spawn(|_| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let r = f(&items[i]);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

/// The size of a file on disk, 0 when it cannot be read (it is then
/// scheduled last and its error reported by the scan itself).
pub fn file_size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_and_every_item_runs_once() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let items: Vec<u64> = (0..100).map(|i| (i * 37) % 101).collect();
        let seen = Mutex::new(Vec::new());
        let out = largest_first(
            &pool,
            &items,
            |&x| x,
            |&x| {
                seen.lock().unwrap().push(x);
                x * 2
            },
        );
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let mut seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), items.len());
        seen.sort_unstable();
        let mut want = items.clone();
        want.sort_unstable();
        assert_eq!(seen, want);
    }

    #[test]
    fn one_thread_runs_the_largest_first() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let items = [3u64, 9, 1, 7];
        let seen = Mutex::new(Vec::new());
        largest_first(&pool, &items, |&x| x, |&x| seen.lock().unwrap().push(x));
        assert_eq!(seen.into_inner().unwrap(), vec![9, 7, 3, 1]);
    }
}
