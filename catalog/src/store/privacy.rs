//! A person's rows for their export, and their erasure, as planned from the registry by
//! [`crate::privacy::requests`].

use serde_json::{Map, Value};

use super::{Store, StoreError};
use crate::privacy::requests::{erasure_steps, export_queries, PersonKeys};

/// One section of an export: a table's rows about the person, each a map of field to text.
#[derive(Debug, Clone)]
pub struct ExportSection {
    pub section: &'static str,
    pub rows: Vec<Map<String, Value>>,
}

/// Rows an erasure kept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub table: &'static str,
    pub rows: u64,
    pub reason: &'static str,
}

impl Store {
    /// Every row about the person, section by section, in the registry's order.
    pub async fn export_person(&self, keys: &PersonKeys) -> Result<Vec<ExportSection>, StoreError> {
        let mut sections = Vec::new();
        for query in export_queries() {
            let key = keys.get(query.key);
            let rows = on_backend!(self, db => db.text_rows(&query.sql, key, query.fields.len()))?;
            let rows = rows
                .into_iter()
                .map(|values| {
                    query
                        .fields
                        .iter()
                        .zip(values)
                        .map(|(field, value)| {
                            (
                                (*field).to_owned(),
                                value.map_or(Value::Null, Value::String),
                            )
                        })
                        .collect()
                })
                .collect();
            sections.push(ExportSection {
                section: query.section,
                rows,
            });
        }
        Ok(sections)
    }

    /// Erases the person, in one transaction: their sessions end with their account. Returns
    /// what is kept under legal hold.
    #[tracing::instrument(skip_all, fields(user = %keys.user_id))]
    pub async fn erase_person(&self, keys: &PersonKeys) -> Result<Vec<Held>, StoreError> {
        let steps = erasure_steps();
        on_backend!(self, db => db.erase_person(&steps, keys))
    }
}
