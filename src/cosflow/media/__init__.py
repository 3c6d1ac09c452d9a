"""Media tools over local files (FFmpeg, PyAV, Pillow); nothing here knows HTTP, SQL or buckets."""
