//! JSON columns: row images, keys, checkpoints.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};

pub(super) fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|error| {
        Error::new(
            ErrorKind::Store,
            format!("a value could not be written as JSON for the state store: {error}"),
        )
    })
}

pub(super) fn from_json<T: DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|error| {
        Error::new(
            ErrorKind::Store,
            format!("the state store holds JSON this dbsync cannot read ({error}); upgrade dbsync"),
        )
    })
}
