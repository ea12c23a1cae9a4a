#!/usr/bin/python3
"""An independent HTTP Negotiate client (RFC 4559) for the server tests: python-gssapi (Debian python3-gssapi, MIT
underneath) over http.client, with mutual authentication required on its side: the server's final token must
complete the context, or the exit code is 3.

Usage: negotiate_http_client.py URL CONNECT_HOST CONNECT_PORT [--cafile F] [--bindings] [--delegate]
Prints one JSON line: {"status", "body", "complete", "mutual", "legs"}. Tokens are never printed.
"""
import base64
import hashlib
import http.client
import json
import ssl
import sys
import urllib.parse

import gssapi
import gssapi.raw as raw

url = urllib.parse.urlsplit(sys.argv[1])
connect_host, connect_port = sys.argv[2], int(sys.argv[3])
args = sys.argv[4:]
cafile = args[args.index("--cafile") + 1] if "--cafile" in args else None

if url.scheme == "https":
    tls = ssl.create_default_context(cafile=cafile)
    tls.check_hostname = False
    conn = http.client.HTTPSConnection(connect_host, connect_port, context=tls, timeout=20)
else:
    conn = http.client.HTTPConnection(connect_host, connect_port, timeout=20)
conn.connect()

bindings = None
if "--bindings" in args:
    # The test certificate is sha256WithRSAEncryption: RFC 5929 says SHA-256 of the DER certificate.
    cert = conn.sock.getpeercert(binary_form=True)
    bindings = raw.ChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(cert).digest())

flags = [gssapi.RequirementFlag.mutual_authentication, gssapi.RequirementFlag.out_of_sequence_detection]
if "--delegate" in args:
    flags.append(gssapi.RequirementFlag.delegate_to_peer)
ctx = gssapi.SecurityContext(name=gssapi.Name("HTTP@" + url.hostname, gssapi.NameType.hostbased_service),
                             usage="initiate", mech=gssapi.OID.from_int_seq("1.3.6.1.5.5.2"), flags=flags,
                             channel_bindings=bindings)
path = url.path or "/"
token = ctx.step()
legs = 0
while True:
    legs += 1
    conn.request("GET", path, headers={"Host": url.netloc, "Authorization": "Negotiate " + base64.b64encode(token).decode()})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    challenge = resp.getheader("WWW-Authenticate") or ""
    server_token = base64.b64decode(challenge.split(" ", 1)[1]) if challenge.lower().startswith("negotiate ") else None
    if resp.status == 401 and server_token and not ctx.complete and legs < 5:
        token = ctx.step(server_token)
        continue
    break
if server_token and not ctx.complete:
    ctx.step(server_token)
mutual = bool(ctx.complete and gssapi.RequirementFlag.mutual_authentication in ctx.actual_flags)
print(json.dumps({"status": resp.status, "body": body, "complete": bool(ctx.complete), "mutual": mutual, "legs": legs}))
sys.exit(0 if resp.status >= 400 or ctx.complete else 3)
