//! Tests of the control plane against a real state store file and a real server socket.

mod api;
mod metrics;
mod server;
mod store;
