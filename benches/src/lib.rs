//! Helpers the benchmarks in `benches/` share.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// CPU time of the calling thread; wall time where Linux's schedstat is missing.
pub fn thread_cpu(wall_origin: Instant) -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| wall_origin.elapsed(), Duration::from_nanos)
}

/// Times `run` on fresh inputs from `setup` in CPU time of this thread.
pub fn cpu_timed<I, O>(
    iters: u64,
    mut setup: impl FnMut() -> I,
    mut run: impl FnMut(I) -> O,
) -> Duration {
    let origin = Instant::now();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let input = setup();
        let t0 = thread_cpu(origin);
        black_box(run(input));
        total += thread_cpu(origin).saturating_sub(t0);
    }
    total
}
