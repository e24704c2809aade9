"""Bounded file uploads: refuse a request by its announced size, stop a file at a limit.

Django reads a multipart body before a view sees it (the CSRF check reads
``request.POST``) and spools large files to disk. A view that takes one small file
sets :class:`BoundedUploadHandler` instead, before anything reads the body (Django's
recipe: the view is ``csrf_exempt`` and calls a ``csrf_protect``-ed function)::

    handler = bounded_upload(request, max_bytes=...)
    if handler.too_large: ...  # refused from Content-Length alone; the body is not read

The handler keeps one file, in memory, up to ``max_bytes``; past that it stops
reading the file (``StopUpload``: Django drains the rest of the body, so the browser
still gets the answer) and sets ``too_large``. Fields after the file in the form are
lost then, so forms put their hidden fields (the CSRF token) before the file input.
"""

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

# What a multipart body may hold besides the file: boundaries, part headers, a few fields.
OVERHEAD_BYTES = 64 * 1024


class BoundedUploadHandler(FileUploadHandler):
    """Keep at most one file of at most ``max_bytes``, in memory."""

    def __init__(self, request: HttpRequest, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.files = 0
        self._buffer: io.BytesIO | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.files += 1
        if self.files > 1:
            raise StopUpload(connection_reset=False)
        self._buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.max_bytes:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        self._buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def bounded_upload(request: HttpRequest, *, max_bytes: int) -> BoundedUploadHandler:
    """Make ``request`` read at most one file of ``max_bytes``; return the handler.

    A body announced larger than the file and its overhead is refused at once:
    ``too_large`` is set before the body is read, and the caller must then not read
    ``request.POST`` or ``request.FILES`` (nor check CSRF, which reads them): it
    answers with the error and changes nothing.
    """
    handler = BoundedUploadHandler(request, max_bytes=max_bytes)
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > max_bytes + OVERHEAD_BYTES:
        handler.too_large = True
    request.upload_handlers = [handler]
    return handler
