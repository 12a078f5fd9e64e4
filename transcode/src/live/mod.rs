//! One live session: a capture box's SRT stream in, a packaged ladder out.

pub mod pipeline;
pub mod session;
