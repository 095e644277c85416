//! The plugin platform's host side. So far: the outbound network policy that
//! the host's `fetch` capability enforces. The component runtime joins here.

pub mod outbound;
