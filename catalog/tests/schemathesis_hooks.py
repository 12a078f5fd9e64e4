"""Schemathesis hooks for catalog/tests/schemathesis.sh (loaded via SCHEMATHESIS_HOOKS).

The raw chunk upload takes the chunk's bytes as `video/mp2t`, and a resumable upload's PATCH
its next bytes as `application/offset+octet-stream`: media types schemathesis has no
generator for. Any bytes will do: the catalog only hashes and stores them.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("video/mp2t", st.binary(max_size=4096))
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))
