//! A person's rights of access and erasure, planned from the [`registry`]: which rows of
//! which tables are theirs, what each contributes to their export, and what erasing them does.
//! Nothing here names a table: a table or column added to the registry is exported and erased
//! by the same code, so the registry cannot promise what the code does not do.
//!
//! The SQL is generated from the registry's names (never from input) and is the same on both
//! databases: every exported value is read `CAST(… AS TEXT)`, so the document shows what the
//! database holds without per-type code (times as each database writes them, booleans as
//! `true`/`false` or `1`/`0`).

use super::registry::{self, Erasure, Export, Replacement, Subject, Table};

/// How a table's rows about a person are found: the column, and which of the person's keys
/// it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Their user id.
    UserId,
    /// The login throttle's hash of their email address.
    AccountHash,
}

/// The keys that find a person's rows.
#[derive(Debug, Clone)]
pub struct PersonKeys {
    pub user_id: String,
    /// See [`crate::login_throttle::account_key`].
    pub account_hash: String,
}

impl PersonKeys {
    /// The value of `key` for this person.
    pub fn get(&self, key: Key) -> &str {
        match key {
            Key::UserId => &self.user_id,
            Key::AccountHash => &self.account_hash,
        }
    }
}

/// One section of a person's export: one table's rows about them.
#[derive(Debug, Clone)]
pub struct ExportQuery {
    /// The section's name in the document.
    pub section: &'static str,
    /// The field name of each selected column, in the order of [`ExportQuery::sql`].
    pub fields: Vec<&'static str>,
    pub key: Key,
    /// Selects the rows whose key is `$1`, every field as text.
    pub sql: String,
}

/// What erasing a person does to one table.
#[derive(Debug, Clone)]
pub enum ErasureStep {
    /// Rows deleted, or columns overwritten, by `sql` (with the key as `$1`).
    Change {
        table: &'static str,
        key: Key,
        sql: String,
    },
    /// Rows kept as they are, for `reason` (counted with `count_sql`, the key as `$1`).
    Hold {
        table: &'static str,
        key: Key,
        reason: &'static str,
        count_sql: String,
    },
}

/// The tables about a person and how each finds their rows. The only hash the registry
/// keys rows by is the login throttle's hash of an account's email address.
fn personal_tables() -> impl Iterator<Item = (&'static Table, &'static str, Key)> {
    registry::personal_tables().filter_map(|table| match table.subject {
        Subject::User { column } => Some((table, column, Key::UserId)),
        Subject::Hashed { column, .. } => Some((table, column, Key::AccountHash)),
        Subject::Nobody => None,
    })
}

/// One query per table about a person, in the registry's order.
pub fn export_queries() -> Vec<ExportQuery> {
    personal_tables()
        .filter_map(|(table, key_column, key)| {
            let section = table.export_section?;
            let (columns, fields): (Vec<_>, Vec<_>) = table
                .columns
                .iter()
                .filter_map(|column| match column.export {
                    Export::Field(field) => Some((column.name, field)),
                    Export::NotPersonal | Export::Withheld(_) => None,
                })
                .unzip();
            let select = columns
                .iter()
                .map(|c| format!("CAST({c} AS TEXT)"))
                .collect::<Vec<_>>()
                .join(", ");
            let order = columns.first().copied().unwrap_or(key_column);
            Some(ExportQuery {
                section,
                fields,
                key,
                sql: format!(
                    "SELECT {select} FROM {} WHERE {key_column} = $1 ORDER BY {order}",
                    table.name
                ),
            })
        })
        .collect()
}

/// What erasing a person does, table by table; `users` comes last, as other tables refer
/// to it.
pub fn erasure_steps() -> Vec<ErasureStep> {
    let mut steps: Vec<ErasureStep> = personal_tables()
        .map(|(table, key_column, key)| erasure_step(table, key_column, key))
        .collect();
    steps.sort_by_key(|step| matches!(step, ErasureStep::Change { table: "users", .. }));
    steps
}

/// A table's erasure: its rows are kept when any column is under legal hold, else deleted
/// when any column says so, else overwritten column by column.
fn erasure_step(table: &'static Table, key_column: &str, key: Key) -> ErasureStep {
    let erasures = || table.columns.iter().map(|column| column.erasure);
    if let Some(reason) = erasures().find_map(|erasure| match erasure {
        Erasure::LegalHold { reason } => Some(reason),
        _ => None,
    }) {
        return ErasureStep::Hold {
            table: table.name,
            key,
            reason,
            count_sql: format!(
                "SELECT COUNT(*) FROM {} WHERE {key_column} = $1",
                table.name
            ),
        };
    }
    let sql = if erasures().any(|erasure| erasure == Erasure::DeleteRow) {
        format!("DELETE FROM {} WHERE {key_column} = $1", table.name)
    } else {
        let sets = table
            .columns
            .iter()
            .filter_map(|column| match column.erasure {
                Erasure::Anonymise(replacement) => {
                    Some(format!("{} = {}", column.name, sql_literal(replacement)))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("UPDATE {} SET {sets} WHERE {key_column} = $1", table.name)
    };
    ErasureStep::Change {
        table: table.name,
        key,
        sql,
    }
}

/// A replacement as SQL both databases read the same way.
fn sql_literal(replacement: Replacement) -> String {
    match replacement {
        Replacement::Null => "NULL".to_owned(),
        Replacement::Text(text) => format!("'{}'", text.replace('\'', "''")),
        Replacement::Flag(flag) => if flag { "TRUE" } else { "FALSE" }.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_about_a_person_is_exported_and_erased() {
        let about_someone: Vec<_> = registry::personal_tables().map(|t| t.name).collect();
        let exported: Vec<_> = export_queries().iter().map(|q| q.section).collect();
        let erased: Vec<_> = erasure_steps()
            .iter()
            .map(|step| match step {
                ErasureStep::Change { table, .. } | ErasureStep::Hold { table, .. } => *table,
            })
            .collect();
        assert_eq!(exported.len(), about_someone.len(), "{exported:?}");
        for table in &about_someone {
            assert!(erased.contains(table), "{table} is not erased");
        }
    }

    #[test]
    fn the_account_goes_last_and_the_audit_log_is_held() {
        let steps = erasure_steps();
        assert!(matches!(
            steps.last(),
            Some(ErasureStep::Change { table: "users", sql, .. }) if sql.starts_with("DELETE")
        ));
        assert!(steps.iter().any(|s| matches!(
            s,
            ErasureStep::Hold {
                table: "audit_log",
                ..
            }
        )));
    }

    #[test]
    fn exports_select_fields_only_never_withheld_columns() {
        let profile = export_queries()
            .into_iter()
            .find(|q| q.section == "profile")
            .unwrap();
        assert!(profile.fields.contains(&"email"));
        assert!(!profile.sql.contains("password_hash"), "{}", profile.sql);
        assert!(
            profile.sql.ends_with("WHERE id = $1 ORDER BY id"),
            "{}",
            profile.sql
        );
    }

    #[test]
    fn replacements_are_quoted() {
        assert_eq!(sql_literal(Replacement::Text("it's")), "'it''s'");
        assert_eq!(sql_literal(Replacement::Null), "NULL");
    }
}
