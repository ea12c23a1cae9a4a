#!/usr/bin/python3
"""Python requests with requests-kerberos (Debian python3-requests-kerberos, pykerberos over MIT) as an HTTP
Negotiate client, mutual authentication REQUIRED: requests-kerberos then checks the server's final token and raises
MutualAuthenticationError when it is missing or does not verify.

Usage: requests_kerberos_client.py URL [--delegate]. The test realm's names do not resolve: every *.kn.test goes to
127.0.0.1. Prints one JSON line {"status", "body"} or {"error"}; never a token.
"""
import json
import socket
import sys

import requests
from requests_kerberos import REQUIRED, HTTPKerberosAuth
from requests_kerberos.exceptions import MutualAuthenticationError

_getaddrinfo = socket.getaddrinfo


def loopback(host, *args, **kw):
    if isinstance(host, str) and host.endswith(".kn.test"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kw)


socket.getaddrinfo = loopback
auth = HTTPKerberosAuth(mutual_authentication=REQUIRED, delegate="--delegate" in sys.argv[2:])
try:
    r = requests.get(sys.argv[1], auth=auth, timeout=20)
    print(json.dumps({"status": r.status_code, "body": r.text}))
except MutualAuthenticationError as e:
    print(json.dumps({"error": "MutualAuthenticationError", "message": str(e)[:200]}))
