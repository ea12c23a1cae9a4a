#!/usr/bin/python3
"""An independent GSS acceptor for the tests: python-gssapi (Debian python3-gssapi, MIT underneath).

Line protocol on stdin/stdout, one JSON object per line, so one process serves many contexts:
  request  {"op": "new", "service": "HTTP@web.kn.test", "bindings": "<base64 application data>" (optional)}
  request  {"op": "step", "token": "<base64>"}
  response {"token": "<base64 or empty>", "complete": bool, "user": str|null, "error": str|null, "flags": int}
The keytab comes from KRB5_KTNAME. A failed step still returns the error token MIT produced (a KRB-ERROR),
which is how a real server tells the client why. Prints no secrets: tokens only travel to the test process.
"""
import base64
import json
import sys

import gssapi
import gssapi.raw as raw

ctx = None


def reply(**kw):
    out = {"token": "", "complete": False, "user": None, "error": None, "flags": 0}
    out.update(kw)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    req = json.loads(line)
    try:
        if req["op"] == "new":
            name = gssapi.Name(req["service"], gssapi.NameType.hostbased_service)
            creds = gssapi.Credentials(name=name, usage="accept")
            bindings = None
            if req.get("bindings"):
                bindings = raw.ChannelBindings(application_data=base64.b64decode(req["bindings"]))
            ctx = gssapi.SecurityContext(creds=creds, usage="accept", channel_bindings=bindings)
            reply()
        elif req["op"] == "step":
            out = ctx.step(base64.b64decode(req["token"]))
            reply(token=base64.b64encode(out or b"").decode(), complete=ctx.complete,
                  user=str(ctx.initiator_name) if ctx.complete else None, flags=int(ctx.actual_flags) if ctx.complete else 0)
        else:
            reply(error="unknown op")
    except gssapi.exceptions.GSSError as err:
        token = getattr(err, "token", None) or b""
        reply(token=base64.b64encode(token).decode(), error=err.gen_message())
