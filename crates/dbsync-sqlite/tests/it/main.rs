//! dbsync-sqlite against real SQLite files, fed by a real MariaDB from the testkit.

mod apply;
mod extremes;
mod from_mariadb;
mod support;
mod unwritable;
mod verify;
