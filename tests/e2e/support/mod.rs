//! Test harness shared by the integration tests: emulators on this machine.
//!
//! Declared once in `tests/e2e/main.rs`. Not every test module uses every helper,
//! hence the blanket allow.
#![allow(dead_code)]

pub mod cli;
pub mod clusters;
pub mod eks;
pub mod examples;
pub mod faultproxy;
pub mod files;
pub mod moto;
pub mod outofband;
pub mod planning;
