//! The `drplan` crate: the command line and everything that talks to the outside
//! (AWS, Kubernetes, the terminal). Decisions live in `drplan-core`.

pub mod cli;
pub mod commands;
pub mod apply;
pub mod lock;
