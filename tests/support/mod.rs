//! Test harness shared by the integration tests: emulators on this machine.
//!
//! Each test binary that needs one declares `mod support;`. Not every binary uses every
//! helper, hence the blanket allow.
#![allow(dead_code)]

pub mod cli;
pub mod clusters;
pub mod moto;
pub mod faultproxy;
pub mod outofband;
