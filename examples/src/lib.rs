#![doc = include_str!("../README.md")]

pub mod coswid_inspect;
pub mod inspect;

pub mod agent;
pub mod clock;
pub mod http;
pub mod ietf_system_json;
pub mod manager;
pub mod pki;

/// Waits until `stop` holds `true` (or its sender is gone).
pub async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Logs to stderr, filtered by `RUST_LOG` (else `default`, e.g. `info`).
pub fn init_logging(default: &str) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}
