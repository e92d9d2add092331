//! The process allocator: jemalloc, told to hand freed pages back to the kernel at once.
//!
//! A plan builds the spec's objects, the live objects as each reader returns them, and
//! the plan, and frees much of it on the way (syntax trees once a block is evaluated,
//! reader copies once they are found equal to the spec). glibc's malloc keeps those
//! holes: at 10,000 resources a plan peaked at 82 MB of resident memory for 58 MB of
//! live heap. jemalloc with no decay delay peaks at 68 MB, and spends less CPU doing it
//! (BENCHMARKS.md, section 11). drplan is a command that runs for seconds, so giving
//! pages back at once costs nothing a later allocation would have reused.
//!
//! Every binary that links this crate uses it (`lib.rs` declares it the global
//! allocator): `drplan`, the bench suite, whose bench 1 child so measures the allocator
//! users get, and the integration tests. `load_mem` (drplan-core's memory example)
//! includes this file for the same options under its counting allocator.

/// jemalloc's compile-time options (`malloc_conf`; tikv-jemalloc-sys prefixes its
/// symbols with `_rjem_`): purge dirty and muzzy pages as soon as they are freed,
/// instead of after 10 s. `_RJEM_MALLOC_CONF` in the environment still overrides it.
#[cfg(not(target_env = "msvc"))]
#[export_name = "_rjem_malloc_conf"]
#[used]
static MALLOC_CONF: Option<&'static std::ffi::c_char> =
    // SAFETY: the first byte of a NUL-terminated static string, which is what jemalloc
    // reads `malloc_conf` as.
    Some(unsafe { &*c"dirty_decay_ms:0,muzzy_decay_ms:0".as_ptr() });
