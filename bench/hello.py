"""The fixed reference of the feed-read benchmark: a bare Starlette hello-world JSON app."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(_: Request) -> JSONResponse:
    return JSONResponse({"message": "hello, world"})


app = Starlette(routes=[Route("/", hello)])
