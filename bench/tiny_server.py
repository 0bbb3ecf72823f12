#!/usr/bin/env python3
"""A tiny HTTP/1.1 server on loopback, to check bench_load itself.

  tiny_server.py [--tls CERT KEY] [--host 127.0.0.1] PORTFILE

Binds an ephemeral port on a loopback address, writes the port to PORTFILE,
serves until killed. POST paths:
  /ok             200, keep-alive, Content-Length body
  /status/<n>     status n
  /close          200 and Connection: close
  /chunked        200 with a chunked body
  /http10         an HTTP/1.0 answer without Content-Length, then close
"""
import http.server
import ipaddress
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        reply = b"<ok>" + str(len(body)).encode() + b"</ok>" + b"x" * 2000
        path = self.path
        if path.startswith("/status/"):
            self.send_response(int(path.split("/")[2]))
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        elif path == "/close":
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply)
            self.close_connection = True
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (reply[:7], reply[7:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/http10":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + reply)
            self.close_connection = True
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)


def main():
    args = sys.argv[1:]
    tls = None
    host = "127.0.0.1"
    while args and args[0].startswith("--"):
        if args[0] == "--tls":
            tls = (args[1], args[2])
            args = args[3:]
        elif args[0] == "--host":
            host = args[1]
            args = args[2:]
        else:
            sys.exit("unknown option " + args[0])
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("loopback only")
    cls = http.server.ThreadingHTTPServer
    if ":" in host:
        class V6(http.server.ThreadingHTTPServer):
            address_family = __import__("socket").AF_INET6
        cls = V6
    srv = cls((host, 0), Handler)
    srv.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args[0] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    __import__("os").rename(args[0] + ".tmp", args[0])
    srv.serve_forever()


if __name__ == "__main__":
    main()
