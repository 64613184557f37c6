//! The relay's API tests: one binary made of modules, each test against a fresh relay from
//! `helpers::spawn_app()` (port 0, a temporary sled directory, the real HTTP client).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod binary;
mod cases;
mod channels;
mod durability;
mod fetch;
mod handoffs;
mod helpers;
mod input;
mod mailboxes;
mod named;
mod notes;
mod offices;
mod openapi;
mod opening;
mod packages;
mod privacy;
mod retention;
mod service;
mod shredding;
mod storage;
mod tallies;
