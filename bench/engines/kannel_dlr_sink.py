# Answers 200 to every request: the dlr-url target of the plain sendsms client in the Kannel
# bench (umsgate's own listener takes the DLRs of its jobs).
#   python3 kannel_dlr_sink.py PORT
import http.server, sys


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
