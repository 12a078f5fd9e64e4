//! A `GOutputStream` that `hlssink2` writes one segment into. When the sink closes it, the
//! whole segment goes to the session as bytes, so segments never touch a file we would have
//! to scan for.

// glib's subclassing macros expand to `unsafe` impls of GObject's type system; this module
// holds no hand-written unsafe code.
#![allow(unsafe_code)]

use bytes::Bytes;
use gio::glib;
use gio::prelude::*;
use gio::subclass::prelude::*;
use tokio::sync::mpsc::UnboundedSender;

/// A finished segment: the name `hlssink2` gave it and its bytes.
#[derive(Debug)]
pub struct FragmentBytes {
    pub location: String,
    pub body: Bytes,
}

glib::wrapper! {
    /// An in-memory output stream that hands its bytes over on close.
    pub struct SegmentStream(ObjectSubclass<imp::SegmentStream>) @extends gio::OutputStream;
}

impl SegmentStream {
    /// A stream for the segment `location`; its bytes go to `done` when it is closed.
    pub fn new(location: String, done: UnboundedSender<FragmentBytes>) -> Self {
        let stream: SegmentStream = glib::Object::new();
        *stream.imp().state.lock().expect("segment stream lock") = Some(imp::Open {
            location,
            body: Vec::new(),
            done,
        });
        stream
    }

    /// As the `GOutputStream` the sink's signal returns.
    pub fn into_output_stream(self) -> gio::OutputStream {
        self.upcast()
    }
}

mod imp {
    use super::*;
    use std::sync::Mutex;

    pub struct Open {
        pub location: String,
        pub body: Vec<u8>,
        pub done: UnboundedSender<FragmentBytes>,
    }

    #[derive(Default)]
    pub struct SegmentStream {
        pub state: Mutex<Option<Open>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SegmentStream {
        const NAME: &'static str = "LecternSegmentStream";
        type Type = super::SegmentStream;
        type ParentType = gio::OutputStream;
    }

    impl ObjectImpl for SegmentStream {
        // A sink that drops its stream without closing it still delivers what it wrote.
        fn dispose(&self) {
            if let Some(open) = self.state.lock().ok().and_then(|mut s| s.take()) {
                let _ = open.done.send(FragmentBytes {
                    location: open.location,
                    body: open.body.into(),
                });
            }
        }
    }

    impl OutputStreamImpl for SegmentStream {
        fn write(
            &self,
            buffer: &[u8],
            _cancellable: Option<&gio::Cancellable>,
        ) -> Result<usize, glib::Error> {
            let mut state = self.state.lock().map_err(|_| closed())?;
            let open = state.as_mut().ok_or_else(closed)?;
            open.body.extend_from_slice(buffer);
            Ok(buffer.len())
        }

        fn close(&self, _cancellable: Option<&gio::Cancellable>) -> Result<(), glib::Error> {
            let open = self.state.lock().map_err(|_| closed())?.take();
            if let Some(open) = open {
                // The session may be gone at shutdown; then nobody wants the bytes.
                let _ = open.done.send(FragmentBytes {
                    location: open.location,
                    body: open.body.into(),
                });
            }
            Ok(())
        }
    }

    fn closed() -> glib::Error {
        glib::Error::new(gio::IOErrorEnum::Closed, "segment stream already closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_arrive_once_when_the_stream_is_closed() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stream = SegmentStream::new("720p-00001.ts".into(), tx).into_output_stream();
        stream.write_all(b"abc", gio::Cancellable::NONE).unwrap();
        stream.write_all(b"def", gio::Cancellable::NONE).unwrap();
        assert!(rx.try_recv().is_err(), "nothing before close");
        stream.close(gio::Cancellable::NONE).unwrap();
        let fragment = rx.try_recv().unwrap();
        assert_eq!(fragment.location, "720p-00001.ts");
        assert_eq!(&fragment.body[..], b"abcdef");
        assert!(rx.try_recv().is_err(), "exactly once");
    }

    #[test]
    fn bytes_of_a_stream_dropped_unclosed_still_arrive() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stream = SegmentStream::new("360p-00002.ts".into(), tx).into_output_stream();
        stream.write_all(b"xyz", gio::Cancellable::NONE).unwrap();
        drop(stream);
        assert_eq!(&rx.try_recv().unwrap().body[..], b"xyz");
    }
}
