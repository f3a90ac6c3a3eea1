//! The configuration crate through its public API: the PRODUCT §6 example, the seeds'
//! keys, every error message, interpolation, overrides, secrets, selection, round trips.

mod errors;
mod overrides;
mod product_example;
mod round_trip;
mod seeds;
mod support;
