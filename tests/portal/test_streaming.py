"""Streamed responses under ASGI (issue 13: the StreamingHttpResponse warning of ``bin/run``):
static files and downloads go out through an asynchronous iterator, read as they are sent."""

from __future__ import annotations

import asyncio
import urllib.request
import warnings

import pytest
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.test import AsyncRequestFactory, RequestFactory

from config.streaming import CHUNK, AsyncStreamingMiddleware
from tests.live import ServerProcess

WARNING = "StreamingHttpResponse must consume synchronous iterators"


def asgi_request():
    return AsyncRequestFactory().get("/static/x.js")


async def _body(response) -> bytes:
    return b"".join([part async for part in response])


def test_a_synchronous_stream_becomes_asynchronous_and_is_read_in_hops():
    reads = []

    def parts():
        for index in range(5):
            reads.append(index)
            yield b"x" * (CHUNK // 2)

    async def view(request):
        return StreamingHttpResponse(parts())

    async def run():
        response = await AsyncStreamingMiddleware(view)(asgi_request())
        assert response.is_async
        assert reads == []  # nothing read before the body is sent
        return await _body(response)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = asyncio.run(run())
    assert body == b"x" * (CHUNK // 2 * 5)
    assert reads == [0, 1, 2, 3, 4]


def test_the_iterator_is_closed_when_the_client_goes_away():
    closed = []

    def parts():
        try:
            while True:
                yield b"y" * CHUNK
        finally:
            closed.append(True)

    async def view(request):
        return StreamingHttpResponse(parts())

    async def run():
        response = await AsyncStreamingMiddleware(view)(asgi_request())
        iterator = aiter(response.streaming_content)
        await anext(iterator)
        await iterator.aclose()
        assert closed == []
        response.close()  # as Django's handlers do once the body is sent or abandoned

    asyncio.run(run())
    assert closed == [True]


def test_other_responses_and_wsgi_are_left_alone():
    plain = HttpResponse(b"ok")

    async def view(request):
        return plain

    assert asyncio.run(AsyncStreamingMiddleware(view)(asgi_request())) is plain
    # Under WSGI a synchronous stream is what the server wants.
    stream = StreamingHttpResponse(iter([b"a"]))
    sync_chain = AsyncStreamingMiddleware(lambda request: stream)
    assert sync_chain(RequestFactory().get("/")) is stream and not stream.is_async


def test_a_synchronous_chain_under_asgi_streams_asynchronously():
    """Django hands this middleware a synchronous chain when the middleware after it is
    synchronous (the tenants' one is): the request says ASGI all the same."""
    stream = StreamingHttpResponse(iter([b"a", b"b"]))
    response = AsyncStreamingMiddleware(lambda request: stream)(asgi_request())
    assert response.is_async and asyncio.run(_body(response)) == b"ab"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    # The server serves what collectstatic gathered (WhiteNoise, DEBUG off): a fresh clone
    # has none until something collects them (the browser tests do the same).
    call_command("collectstatic", interactive=False, verbosity=0)
    with django_db_blocker.unblock():
        process = ServerProcess("streaming").start()
    yield process
    process.stop()


def test_the_asgi_server_serves_static_files_without_the_warning(server):
    path = settings.BASE_DIR / "static" / "js" / "live.js"
    for _ in range(2):
        request = urllib.request.Request(
            f"{server.http}/static/js/live.js", headers={"Host": "localhost"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert response.read() == path.read_bytes()
    assert WARNING not in server.log_path.read_text()
