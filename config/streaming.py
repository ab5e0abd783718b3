"""Streamed responses under ASGI read through an asynchronous iterator.

Django serves a ``StreamingHttpResponse`` (WhiteNoise's static files, ``FileResponse`` downloads,
CSV exports) under ASGI by first reading its whole synchronous iterator into memory in a
thread, with a warning on every such response ("StreamingHttpResponse must consume synchronous
iterators in order to serve them asynchronously").  This middleware, first in ``MIDDLEWARE``,
gives such a response an asynchronous iterator when the request came through ASGI: the synchronous one is read in the
thread that runs Django's synchronous code (the ORM's, for an export walking a cursor), about
64 KiB per hop, and the body goes out as it is read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils.decorators import sync_and_async_middleware

CHUNK = 65_536  # bytes read per hop to the synchronous thread


def _take(iterator: Iterator[bytes]) -> list[bytes]:
    """The next parts of ``iterator``, about ``CHUNK`` bytes of them ([] at its end)."""
    parts: list[bytes] = []
    size = 0
    for part in iterator:
        parts.append(part)
        size += len(part)
        if size >= CHUNK:
            break
    return parts


async def _read(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    # The original iterator (a generator, an open file) is closed by ``response.close()``:
    # Django registered its ``close`` when the response was made, and that stays.
    while parts := await sync_to_async(_take)(iterator):
        for part in parts:
            yield part


def as_async_stream(request, response):
    """``response`` with an asynchronous iterator if it streams a synchronous one to an ASGI
    server (under WSGI the synchronous iterator is what the server wants)."""
    if (
        isinstance(request, ASGIRequest)
        and isinstance(response, StreamingHttpResponse)
        and not response.is_async
    ):
        response.streaming_content = _read(iter(response.streaming_content))
    return response


@sync_and_async_middleware
def AsyncStreamingMiddleware(get_response):  # noqa: N802 (a middleware's dotted name)
    # Synchronous when the middleware below it is (Django then adapts the whole chain): the
    # request's class, not the chain's, says whether an ASGI server sends the body.
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return as_async_stream(request, await get_response(request))

    else:

        def middleware(request):
            return as_async_stream(request, get_response(request))

    return middleware
