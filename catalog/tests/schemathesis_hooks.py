"""Schemathesis hooks for catalog/tests/schemathesis.sh (loaded via SCHEMATHESIS_HOOKS).

The raw chunk upload takes the chunk's bytes as `video/mp2t`, a media type schemathesis has
no generator for: any bytes will do, the catalog only hashes and stores them.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("video/mp2t", st.binary(max_size=4096))
