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
