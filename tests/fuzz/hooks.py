"""Schemathesis hooks for scripts/fuzz-api.

cargo lambda watch answers 500 itself, before the function runs, to a non-UTF-8 body sent as
application/json (API Gateway would base64-encode it instead, which the function decodes; the
integration test base64_bodies_of_function_urls_are_decoded covers that path). Raw byte bodies
from negative testing are therefore made valid UTF-8, malformed JSON all the same, so every
generated request reaches the function.
"""
import schemathesis


@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8", "replace").encode("utf-8")
    return body
