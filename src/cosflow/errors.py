"""One exception tree for the whole package.

The class docstring is the default message. Nothing here knows about HTTP: ``cosflow.api.errors``
holds the single table that maps each class to a COS error code and status.
"""

from __future__ import annotations


class CosflowError(Exception):
    """Internal error."""

    def __init__(self, message: str | None = None, *, resource: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.resource = resource
        super().__init__(self.message)


class ConfigError(CosflowError):
    """The configuration is not valid."""


# --- request shape ------------------------------------------------------------------------------
class InvalidArgument(CosflowError):
    """Invalid argument."""


class MalformedXML(CosflowError):
    """The XML you provided was not well-formed or did not validate against our published schema."""


class XMLTooComplex(MalformedXML):
    """The XML you provided is nested too deeply or has too many elements."""


class EntityTooLarge(CosflowError):
    """Your proposed upload exceeds the maximum allowed object size."""


class EntityTooSmall(CosflowError):
    """Your proposed upload is smaller than the minimum allowed object size."""


class IncompleteBody(CosflowError):
    """You did not provide the number of bytes specified by the Content-Length HTTP header."""


class MissingContentLength(CosflowError):
    """You must provide the Content-Length HTTP header."""


class InvalidDigest(CosflowError):
    """The Content-MD5 you specified is not valid."""


class BadDigest(CosflowError):
    """The Content-MD5 you specified did not match what we received."""


class InvalidBucketName(CosflowError):
    """The specified bucket is not valid."""


class KeyTooLong(CosflowError):
    """Your key is too long."""


class InvalidURI(CosflowError):
    """Couldn't parse the specified URI."""


class InvalidRange(CosflowError):
    """The requested range is not satisfiable."""


class PreconditionFailed(CosflowError):
    """At least one of the preconditions you specified did not hold."""


class NotModified(CosflowError):
    """Not Modified."""


class MethodNotAllowed(CosflowError):
    """The specified method is not allowed against this resource."""


class NotImplementedOperation(CosflowError):
    """A header or query you provided implies functionality that is not implemented."""


class InvalidPart(CosflowError):
    """One or more of the specified parts could not be found or its ETag did not match."""


class InvalidPartOrder(CosflowError):
    """The list of parts was not in ascending order."""


class InvalidPolicyDocument(CosflowError):
    """The content of the form does not meet the conditions specified in the policy document."""


# --- authentication ------------------------------------------------------------------------------
class AccessDenied(CosflowError):
    """Access Denied."""


class InvalidAccessKeyId(CosflowError):
    """The SecretId you provided does not exist in our records."""


class SignatureDoesNotMatch(CosflowError):
    """The request signature we calculated does not match the signature you provided."""


class RequestExpired(AccessDenied):
    """Request has expired."""


# --- resources ------------------------------------------------------------------------------------
class NoSuchBucket(CosflowError):
    """The specified bucket does not exist."""


class NoSuchKey(CosflowError):
    """The specified key does not exist."""


class NoSuchUpload(CosflowError):
    """The specified multipart upload does not exist."""


class ResourceNotFound(CosflowError):
    """The input object does not exist."""


class BucketAlreadyExists(CosflowError):
    """The requested bucket name is not available."""


class BucketNotEmpty(CosflowError):
    """The bucket you tried to delete is not empty."""


class StorageError(CosflowError):
    """The object store could not complete the operation."""


class InsufficientStorage(CosflowError):
    """The server is out of disk space; nothing was changed. Delete objects or free space, then retry."""
