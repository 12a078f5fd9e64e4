//! The catalog's API tests: each test gets a fresh SQLite file and storage directory, seeds
//! the demo and drives `lectern_catalog::app` in process (or `run` on a real port).

mod access;
mod agents_and_workers;
mod auth;
mod config;
mod helpers;
mod media;
mod web;
