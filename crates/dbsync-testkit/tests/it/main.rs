//! The testkit's own tests: the servers are configured as promised, stop with the
//! process however it ends, and the proxy really cuts and delays connections.

mod lifecycle;
mod proxy;
mod servers;
