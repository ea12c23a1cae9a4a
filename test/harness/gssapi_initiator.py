#!/usr/bin/python3
"""An independent GSS initiator for the acceptor tests: python-gssapi (Debian python3-gssapi, MIT underneath).

Line protocol on stdin/stdout, one JSON object per line:
  request  {"op": "new", "service": "HTTP@web.kn.test", "mech": "krb5"|"spnego", "flags": int,
            "bindings": "<base64 application data>" (optional)}   -> the first token
  request  {"op": "step", "token": "<base64>"}                     -> the next token, if any
  request  {"op": "wrap", "data": "<base64>", "conf": bool} / {"op": "unwrap", "token": "<base64>"} /
           {"op": "mic", "data": "<base64>"} / {"op": "verify", "data": "<base64>", "mic": "<base64>"}
           -> per-message calls on the complete context ("data" and "encrypted" in the response for unwrap)
  response {"token": "<base64 or empty>", "complete": bool, "error": str|null, "flags": int}
The client's credentials come from KRB5CCNAME. Prints no secrets: tokens only travel to the test process.
"""
import base64
import json
import sys

import gssapi
import gssapi.raw as raw

MECHS = {"krb5": gssapi.MechType.kerberos, "spnego": gssapi.OID.from_int_seq("1.3.6.1.5.5.2")}
ctx = None


def reply(**kw):
    out = {"token": "", "complete": False, "error": None, "flags": 0}
    out.update(kw)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    req = json.loads(line)
    try:
        if req["op"] == "new":
            name = gssapi.Name(req["service"], gssapi.NameType.hostbased_service)
            bindings = None
            if req.get("bindings"):
                bindings = raw.ChannelBindings(application_data=base64.b64decode(req["bindings"]))
            ctx = gssapi.SecurityContext(name=name, usage="initiate", mech=MECHS[req.get("mech", "krb5")],
                                         flags=req.get("flags", 0) or None, channel_bindings=bindings)
            out = ctx.step()
        elif req["op"] == "wrap":
            wrapped = ctx.wrap(base64.b64decode(req["data"]), req.get("conf", True))
            reply(token=base64.b64encode(wrapped.message).decode(), complete=True)
            continue
        elif req["op"] == "unwrap":
            unwrapped = ctx.unwrap(base64.b64decode(req["token"]))
            reply(complete=True, data=base64.b64encode(unwrapped.message).decode(), encrypted=unwrapped.encrypted)
            continue
        elif req["op"] == "mic":
            reply(token=base64.b64encode(ctx.get_signature(base64.b64decode(req["data"]))).decode(), complete=True)
            continue
        elif req["op"] == "verify":
            ctx.verify_signature(base64.b64decode(req["data"]), base64.b64decode(req["mic"]))
            reply(complete=True)
            continue
        else:
            out = ctx.step(base64.b64decode(req["token"]))
        reply(token=base64.b64encode(out or b"").decode(), complete=ctx.complete,
              flags=int(ctx.actual_flags) if ctx.complete else 0)
    except gssapi.exceptions.GSSError as e:
        reply(error="major %d minor %d: %s" % (e.maj_code, e.min_code, e.gen_message()))
