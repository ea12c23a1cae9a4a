#!/usr/bin/python3
"""An HTTPS server that authenticates with Negotiate (python-gssapi, MIT underneath) and enforces channel bindings.

mod_auth_gssapi 1.6 has no channel-binding support, so this is the real acceptor that proves ours: it computes
tls-server-end-point (RFC 5929) from its own certificate and passes it to gss_accept_sec_context, which refuses an
initiator whose bindings differ. Usage:
  negotiate_https_server.py CERT KEY SERVICE   (SERVICE like HTTP@web.kn.test; keytab from KRB5_KTNAME)
Prints {"port": N} once listening. GET / answers 401 + `WWW-Authenticate: Negotiate` without a token; with one,
200, the final token, and X-Remote-User; a continued exchange is kept per connection. A refused token gives 401
with MIT's error token (a KRB-ERROR) and X-Gss-Error naming why (for the tests' assertions; never a secret).
"""
import base64
import hashlib
import http.server
import json
import ssl
import sys

import gssapi
import gssapi.raw as raw

CERT, KEY, SERVICE = sys.argv[1:4]
with open(CERT) as f:
    DER = ssl.PEM_cert_to_DER_cert(f.read())
# The test certificate is signed with SHA-256, the hash RFC 5929 then prescribes.
BINDINGS = raw.ChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(DER).digest())
CREDS = gssapi.Credentials(name=gssapi.Name(SERVICE, gssapi.NameType.hostbased_service), usage="accept")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ctx = None

    def log_message(self, *args):
        pass

    def answer(self, status, headers, body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Negotiate "):
            self.ctx = None
            return self.answer(401, [("WWW-Authenticate", "Negotiate")])
        if self.ctx is None:
            self.ctx = gssapi.SecurityContext(creds=CREDS, usage="accept", channel_bindings=BINDINGS)
        out = None
        try:
            out = self.ctx.step(base64.b64decode(auth[len("Negotiate "):]))
            complete = self.ctx.complete  # python-gssapi raises here when the step produced an error token
        except gssapi.exceptions.GSSError as err:
            self.ctx = None
            reason = "".join(c if " " <= c <= "~" else " " for c in str(err))
            error_token = "Negotiate " + base64.b64encode(out).decode() if out else "Negotiate"
            return self.answer(401, [("WWW-Authenticate", error_token), ("X-Gss-Error", reason)])
        token = [("WWW-Authenticate", "Negotiate " + base64.b64encode(out).decode())] if out else []
        if not complete:
            return self.answer(401, token)
        user = str(self.ctx.initiator_name)
        self.ctx = None
        self.answer(200, token + [("X-Remote-User", user), ("Content-Type", "text/plain")], b"hello " + user.encode() + b"\n")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(CERT, KEY)
server.socket = tls.wrap_socket(server.socket, server_side=True)
sys.stdout.write(json.dumps({"port": server.server_address[1]}) + "\n")
sys.stdout.flush()
server.serve_forever()
