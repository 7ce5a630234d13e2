"""The real app plus a bare "hello world" route, so benchmarks have a baseline served the same way."""

from portal import create_app

app = create_app()


@app.route("/__bench/hello")
def hello() -> str:
    """Return a constant: the cost of Flask, gunicorn and the middleware alone."""
    return "hello world"
