//! The packager turns encoded segments into an HLS archive in object storage.
//!
//! - [`keys`]: where every object lives (`lectures/<id>/<version>/<track>/<rung>/<seq>.ts`).
//! - [`storage`]: the [`Storage`](storage::Storage) trait and its local-directory backend.
//! - [`s3`]: [`S3Storage`](s3::S3Storage), the same trait over any S3-compatible bucket,
//!   with presigned GET URLs for viewers.
//! - [`storage_config`]: the `[storage]` settings that pick one, shared by worker and catalog.
//! - [`playlist`]: pure m3u8-rs rendering of master and media playlists, shared with the
//!   catalog, which renders the playlists a viewer receives from its own rows.
//! - [`packager`]: the [`Packager`](packager::Packager) a worker feeds segments to; it stores
//!   each segment, then its canonical playlists, and only then reports it to the catalog.
//! - [`thumbnails`]: a track's poster, timeline thumbnails (sprite sheets) and chapters, stored
//!   beside its playlists the same way.
//! - [`vtt`]: pure WebVTT cue files (timeline thumbnails, chapters), shared with the catalog.

pub mod error;
pub mod keys;
pub mod packager;
pub mod playlist;
pub mod s3;
pub mod storage;
pub mod storage_config;
#[cfg(feature = "test-server")]
pub mod test_server;
pub mod thumbnails;
pub mod vtt;

pub use error::StorageError;
pub use packager::{NoCatalog, Packager, PackagerError, ReportError, Reporter, Segment};
pub use s3::{S3Settings, S3Storage};
pub use storage::{LocalDir, Storage};
pub use storage_config::{StorageConfig, StorageKind};
pub use thumbnails::ThumbnailStore;
