//! Apply: execute a [`drplan_core::plan::Plan`] against AWS.

pub mod walk;
