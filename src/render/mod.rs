//! Renderers: the same [`Report`](crate::report::Report) as text for people or JSON for programs.

pub mod github;
pub mod human;
pub mod json;
