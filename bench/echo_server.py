"""The ceiling: a bare websocket echo server on the same stack (uvicorn + websockets, ASGI),
so the OCPP benchmark can compare against the cost of the transport alone."""


async def application(scope, receive, send):
    if scope["type"] != "websocket":
        return
    message = await receive()  # websocket.connect
    subprotocols = scope.get("subprotocols") or []
    await send(
        {"type": "websocket.accept", "subprotocol": subprotocols[0] if subprotocols else None}
    )
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            # answer like a CSMS would: a CALLRESULT with the same message id
            text = message["text"]
            start = text.find('"') + 1
            unique_id = text[start : text.find('"', start)]
            await send({"type": "websocket.send", "text": f'[3,"{unique_id}",{{}}]'})


def _channels_echo():
    """The same echo as a Channels consumer behind Channels' router: the floor of what any
    consumer on the fixed stack (uvicorn + Channels) can do, before OCPP or a database."""
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import re_path

    class EchoConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            subprotocols = self.scope.get("subprotocols") or []
            await self.accept(subprotocol=subprotocols[0] if subprotocols else None)

        async def receive(self, text_data=None, bytes_data=None):
            start = text_data.find('"') + 1
            unique_id = text_data[start : text_data.find('"', start)]
            await self.send(text_data=f'[3,"{unique_id}",{{}}]')

    return ProtocolTypeRouter(
        {"websocket": URLRouter([re_path(r"^ocpp/(?P<identity>[^/]+)$", EchoConsumer.as_asgi())])}
    )


def __getattr__(name):  # uvicorn bench.echo_server:channels_application
    if name == "channels_application":
        import django

        django.setup()
        return _channels_echo()
    raise AttributeError(name)
