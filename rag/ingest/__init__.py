"""Files in, chunks with offsets out, written to the store."""
