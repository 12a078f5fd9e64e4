//! What the catalog keeps about people, in one place (issue 7, design: "Privacy").
//!
//! - [`registry`]: every table and column of the catalog's schema, whether it holds
//!   personal data, why it is kept, for how long, and how it is exported and erased. A test
//!   (`catalog/tests/api/privacy_registry.rs`) compares it with the migrated schema on
//!   SQLite and PostgreSQL, so a migration cannot add a column nobody has classified, and
//!   the table in `docs/privacy.md` is generated from it ([`registry::markdown`]).
//!
//! Code that exports or erases a person's data iterates [`registry::TABLES`] instead of
//! naming tables itself.

pub mod registry;
pub mod requests;
