//! Runs the export and erasure SQL that [`crate::privacy::requests`] generates from the
//! registry.

use sqlx::Row;

use super::super::Db;
use crate::privacy::requests::{ErasureStep, PersonKeys};
use crate::store::privacy::Held;
use crate::store::StoreError;

impl Db {
    /// The rows `sql` selects for `key`, each as `columns` text values.
    pub(in crate::store) async fn text_rows(
        &self,
        sql: &str,
        key: &str,
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let rows = sqlx::query(sql).bind(key).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let values = (0..columns)
                .map(|i| row.try_get::<Option<String>, _>(i))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(values);
        }
        Ok(out)
    }

    /// Applies `steps` to the person's rows, all or nothing.
    pub(in crate::store) async fn erase_person(
        &self,
        steps: &[ErasureStep],
        keys: &PersonKeys,
    ) -> Result<Vec<Held>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut held = Vec::new();
        for step in steps {
            match step {
                ErasureStep::Change { sql, key, .. } => {
                    sqlx::query(sql)
                        .bind(keys.get(*key))
                        .execute(&mut *tx)
                        .await?;
                }
                ErasureStep::Hold {
                    table,
                    key,
                    reason,
                    count_sql,
                } => {
                    let rows: i64 = sqlx::query_scalar(count_sql)
                        .bind(keys.get(*key))
                        .fetch_one(&mut *tx)
                        .await?;
                    if rows > 0 {
                        held.push(Held {
                            table,
                            rows: rows as u64,
                            reason,
                        });
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(held)
    }
}
