"""The WSGI adapters behind :mod:`asgiref.wsgi`.

``WsgiToAsgi`` (serve a WSGI application from an ASGI server) is :mod:`.adapter`, with
its parts: :mod:`.environ` (scope to environ), :mod:`.request_body`
(``wsgi.input``), :mod:`.response` (``start_response``, ``write``, the iterable),
:mod:`.response_window` (the bounded hand-off of response messages to the loop),
:mod:`.headers` (status and header checks), :mod:`.reporting` (what is logged),
:mod:`.filewrapper` and :mod:`.errors`.  Its worker threads are a bounded pool of
:mod:`asgiref._threads`.

``AsgiToWsgi`` (serve an ASGI application from a WSGI server) is :mod:`.asgi_adapter`,
with :mod:`.asgi_exchange` (one request's hand-off between the WSGI thread and the
application's task), :mod:`.asgi_scope`, :mod:`.asgi_lifespan` and :mod:`.asgi_loop`
(the per-process event loop thread).
"""
