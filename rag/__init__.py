"""rag: answers from your own documents, with citations that point at real text."""
