//! The statistics of many points spread over the CPUs this process may use: a map whose items are
//! taken one at a time by each thread, with the results in the items' order. Every bootstrap is
//! seeded by what it describes, so the results are the same on one thread or many.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` of every item, in order, on up to `linreg::default_threads` threads (the CPUs this process
/// may use); `done` is told each time an item is finished (from the thread that finished it).
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync, done: impl Fn() + Sync) -> Vec<R> {
    let threads = linreg::default_threads().get().min(items.len());
    if threads <= 1 {
        return items.iter().map(|item| (f(item), done()).0).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    mine.push((index, f(item)));
                    done();
                }
                results.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(mine);
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_items_order_and_every_item_is_counted() {
        let items: Vec<u64> = (0..1000).collect();
        let finished = AtomicUsize::new(0);
        let squares = map(&items, |&k| k * k, || _ = finished.fetch_add(1, Ordering::Relaxed));
        assert_eq!(squares, items.iter().map(|k| k * k).collect::<Vec<_>>());
        assert_eq!(finished.into_inner(), 1000);
        assert_eq!(map(&[] as &[u64], |&k| k, || ()), Vec::<u64>::new());
    }
}
