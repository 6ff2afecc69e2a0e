"""moto's server, one request at a time.

`moto_server` serves requests on threads with no lock around its DynamoDB backend, so
two conditional writes racing on one item can both pass their condition (DynamoDB
never allows that) and concurrency tests fail at random. This serves the same app
behind a lock.

    python3 functions/store-dynamodb/moto_serial.py PORT [HOST]

Needs `pip install "moto[server]"`. The Rust test helper (src/testing.rs) runs this
same file when HANDOFF_MOTO_URL is not set.
"""
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

port = int(sys.argv[1])
host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serial(environ, start_response):
    with lock:
        return list(app(environ, start_response))


run_simple(host, port, serial, threaded=True)
