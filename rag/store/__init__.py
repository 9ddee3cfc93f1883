"""Where chunks live: the vector store and the lexical index beside it."""
