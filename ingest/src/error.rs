//! Errors of the ingest daemon.

use gst::prelude::*;

/// Why capturing or pushing failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("GStreamer element {name:?} is missing: install the Debian packages gstreamer1.0-plugins-{{base,good,bad,ugly}}, gstreamer1.0-libav and gstreamer1.0-x")]
    ElementMissing { name: String },
    #[error("the pipeline failed in {element}: {message} ({debug})")]
    Pipeline {
        element: String,
        message: String,
        debug: String,
    },
    #[error("GStreamer: {0}")]
    Gst(String),
    #[error(transparent)]
    Catalog(#[from] lectern_client::ApiError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
}

/// Why the spool's journal or the disk guard could not do their work.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool I/O on {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a spool chunk (expected <recording>/<track>/<index>.ts)")]
    NotAChunk { path: std::path::PathBuf },
    #[error("the journal of recording {recording} has no chunk {track}/{index}")]
    UnknownChunk {
        recording: String,
        track: String,
        index: u32,
    },
    #[error("the journal writer stopped before the recording ended")]
    WriterGone,
}

impl SpoolError {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<std::path::PathBuf>) -> impl FnOnce(std::io::Error) -> SpoolError {
        let path = path.into();
        move |source| SpoolError::Io { path, source }
    }
}

impl From<gst::glib::BoolError> for IngestError {
    fn from(e: gst::glib::BoolError) -> Self {
        IngestError::Gst(e.to_string())
    }
}

impl From<gst::StateChangeError> for IngestError {
    fn from(e: gst::StateChangeError) -> Self {
        IngestError::Gst(format!("the pipeline refused to change state: {e}"))
    }
}

/// The error a bus message carries, with the failing element's path.
pub fn pipeline_error(message: &gst::Message) -> Option<IngestError> {
    match message.view() {
        gst::MessageView::Error(e) => Some(IngestError::Pipeline {
            element: e
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default(),
            message: e.error().to_string(),
            debug: e.debug().map(|d| d.to_string()).unwrap_or_default(),
        }),
        _ => None,
    }
}
