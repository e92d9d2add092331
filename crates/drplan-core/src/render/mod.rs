//! Renderers: text, JSON, markdown and graph formats over the same values.

pub mod graph;
pub mod json;
pub mod markdown;
pub mod outage;
pub mod terraform;
pub mod text;
