//! The `drplan` crate: the command line and everything that talks to the outside
//! (AWS, Kubernetes, the terminal). Decisions live in `drplan-core`.

pub mod apply;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod k8s;
pub mod live;
pub mod lock;
pub mod planning;
pub mod reach;
pub mod usage;
