//! Media changes between catalog replicas: each replica announces the changes it makes with
//! `NOTIFY lectern_media, '<replica> <lecture>'` and follows the channel with `LISTEN` on a
//! connection of its pool, recording the others' changes in its own
//! [`MediaChanges`](crate::store::changes::MediaChanges). Notifications are not stored: when
//! the connection breaks, the clock stops vouching for anything until it is listening again
//! and then forgets everything read before (see [`follow`]).

use sqlx::postgres::{PgListener, PgPool};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::PostgresDb;
use crate::store::changes::MediaChanges;
use crate::store::StoreError;

/// The channel replicas announce media changes on.
const CHANNEL: &str = "lectern_media";
/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(1);

impl PostgresDb {
    /// Tells the other replicas that `lecture_id`'s media changed.
    pub(in crate::store) async fn announce_media_change(
        &self,
        replica: &str,
        lecture_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{replica} {lecture_id}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Follows the other replicas' announcements into `changes` until the pool closes. Holds
    /// one of the pool's connections while listening.
    pub(in crate::store) fn follow_media_changes(&self, changes: &Arc<MediaChanges>) {
        tokio::spawn(follow(self.pool.clone(), Arc::downgrade(changes)));
    }
}

/// Listens, and listens again after any failure, until the pool closes or the clock is gone.
async fn follow(pool: PgPool, changes: Weak<MediaChanges>) {
    loop {
        match listen(&pool).await {
            Ok(mut listener) => {
                let Some(clock) = changes.upgrade() else {
                    return;
                };
                // Anything announced before this point may have been missed.
                clock.resume();
                drop(clock);
                tracing::debug!("following other replicas' media changes");
                match hear(&mut listener, &changes).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "lost other replicas' media changes; playlists go uncached until they are back");
                    }
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot follow other replicas' media changes; playlists go uncached until it can");
            }
        }
        match changes.upgrade() {
            Some(clock) => clock.suspend(),
            None => return,
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Records what the listener hears; `Ok` when there is no one left to tell (the pool closed,
/// or the clock is gone), the error when listening failed.
async fn hear(listener: &mut PgListener, changes: &Weak<MediaChanges>) -> Result<(), sqlx::Error> {
    loop {
        let heard = match listener.try_recv().await {
            Err(sqlx::Error::PoolClosed) => return Ok(()),
            heard => heard?,
        };
        let Some(clock) = changes.upgrade() else {
            return Ok(());
        };
        match heard {
            Some(notification) => match notification.payload().split_once(' ') {
                Some((replica, lecture)) if replica != clock.replica() => clock.record(lecture),
                Some(_) => {} // this replica's own: recorded when it was made
                None => tracing::warn!(
                    payload = notification.payload(),
                    "an unexpected media change announcement"
                ),
            },
            // The connection broke and the listener is back on a new one: announcements in
            // between are lost.
            None => {
                tracing::warn!(
                    "other replicas' media changes were interrupted; forgetting cached playlists"
                );
                clock.resume();
            }
        }
    }
}
