"""Domain errors: the CLI and the API turn these into one clear message."""


class RagError(Exception):
    """Base class for every error the library raises on purpose."""


class UnsupportedFile(RagError):
    """A file whose type we cannot load."""


class EmptyDocument(RagError):
    """A file that holds no text."""


class UnreadableFile(RagError):
    """A file that exists but cannot be read or decoded."""


class IndexMismatch(RagError):
    """An index built with another embedding model or dimension."""


class IndexDamaged(RagError):
    """An index whose contents disagree with what it records."""


class IndexLocked(RagError):
    """Another process is writing to the same index folder."""


class CitationNotFound(RagError):
    """A citation id that does not resolve to an indexed passage."""


class DocumentNotFound(RagError):
    """A document id that is not in the index."""


class InvalidRequest(RagError):
    """A request whose values are out of range."""


class CollectionNotFound(RagError):
    """A collection name that does not exist in the store."""


class UploadRejected(RagError):
    """An uploaded file refused before indexing: too large, or of a type we cannot load."""


class UploadTooLarge(UploadRejected):
    """An uploaded file over the size limit."""


class NotReady(RagError):
    """The server is still loading the model and the index, or failed to."""


class LLMUnavailable(RagError):
    """An answer backend that is unknown, not installed, or not configured."""


class ConversationNotFound(RagError):
    """A conversation id that is not saved."""
