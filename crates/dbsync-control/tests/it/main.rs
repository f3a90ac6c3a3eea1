//! Tests of the control plane against a real state store file and a real server socket.

mod api;
mod events;
mod metrics;
mod server;
mod store;
mod verifications;
