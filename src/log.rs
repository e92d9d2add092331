//! The debug log: `DRPLAN_LOG` (or `RUST_LOG`) set to a filter (`debug`,
//! `aws_smithy_runtime=debug,drplan=info`, ...) writes the tracing events of drplan,
//! the AWS SDK (requests, retries, endpoints, regions) and the Kubernetes client to
//! stderr, as `tracing_subscriber`'s `EnvFilter` reads it. Unset: nothing, and no cost.
//!
//! Secrets: the SDK marks credentials and signatures sensitive and prints them
//! redacted; bodies (where secret values travel) are logged only with the SDK's own
//! `LOG_SENSITIVE_BODIES=true`, which drplan never sets.

/// Installs the stderr log when `DRPLAN_LOG` or `RUST_LOG` asks for one. A filter
/// that does not parse is said once, and the log stays off.
pub fn init() {
    let Some((var, filter)) = ["DRPLAN_LOG", "RUST_LOG"].iter().find_map(|v| {
        std::env::var(v)
            .ok()
            .filter(|f| !f.is_empty())
            .map(|f| (*v, f))
    }) else {
        return;
    };
    match tracing_subscriber::EnvFilter::try_new(&filter) {
        Ok(filter) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .try_init();
        }
        Err(e) => eprintln!("Warning: {var}={filter:?} is not a log filter ({e}); no log."),
    }
}
