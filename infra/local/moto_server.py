"""moto's server, with DynamoDB writes made atomic with respect to each other.

moto runs each request on its own thread, and its TransactWriteItems rolls a failed transaction
back by restoring a copy of the whole table taken when the transaction started: a write that
another request made meanwhile (a concurrent successful transaction, an UpdateItem) is lost.
DynamoDB isolates transactions; this wrapper serialises moto's DynamoDB writes behind one lock
so the local stack and the tests see the same isolation. Reads are left alone. Same arguments
as `moto_server`."""

import functools
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_WRITES = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _WRITES:
            return method(*args, **kwargs)

    return wrapper


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    main()
