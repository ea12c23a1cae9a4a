#!/usr/bin/python3
"""An independent GSS acceptor for the tests: python-gssapi (Debian python3-gssapi, MIT underneath).

Line protocol on stdin/stdout, one JSON object per line, so one process serves many contexts:
  request  {"op": "new", "service": "HTTP@web.kn.test", "bindings": "<base64 application data>" (optional)}
  request  {"op": "step", "token": "<base64>"}
  response {"token": "<base64 or empty>", "complete": bool, "user": str|null, "error": str|null, "flags": int}
On an established context (message protection, for interoperability tests):
  {"op": "wrap", "data": b64, "conf": bool} -> token; {"op": "unwrap", "token": b64} -> data, encrypted
  {"op": "mic", "data": b64} -> token; {"op": "verify", "data": b64, "mic": b64} -> error or null
  {"op": "session_key"} -> data (the key) and enctype: test-only, compared with the initiator's view
Delegation: {"op": "delegated"} -> user: the delegated credential's principal, or null;
  {"op": "forward", "service": "HTTP@other.kn.test"} -> token: a first token to that service, made with the
  delegated credential (the proof that delegation works end to end)
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
        elif req["op"] == "wrap":
            res = ctx.wrap(base64.b64decode(req["data"]), req["conf"])
            reply(token=base64.b64encode(res.message).decode(), encrypted=res.encrypted)
        elif req["op"] == "unwrap":
            res = ctx.unwrap(base64.b64decode(req["token"]))
            reply(data=base64.b64encode(res.message).decode(), encrypted=res.encrypted)
        elif req["op"] == "mic":
            reply(token=base64.b64encode(ctx.get_signature(base64.b64decode(req["data"]))).decode())
        elif req["op"] == "verify":
            ctx.verify_signature(base64.b64decode(req["data"]), base64.b64decode(req["mic"]))
            reply()
        elif req["op"] == "delegated":
            creds = ctx.delegated_creds
            reply(user=str(creds.name) if creds is not None else None)
        elif req["op"] == "forward":
            target = gssapi.Name(req["service"], gssapi.NameType.hostbased_service)
            onward = gssapi.SecurityContext(name=target, creds=ctx.delegated_creds, usage="initiate")
            reply(token=base64.b64encode(onward.step()).decode())
        elif req["op"] == "session_key":
            from gssapi.raw import inquire_sec_context_by_oid
            from gssapi.raw.oids import OID
            oid = OID.from_int_seq("1.2.840.113554.1.2.2.5.5")
            key, kind = inquire_sec_context_by_oid(ctx, oid)
            reply(data=base64.b64encode(key).decode(), enctype=int(OID(elements=kind).dotted_form.split(".")[-1]))
        else:
            reply(error="unknown op")
    except gssapi.exceptions.GSSError as err:
        token = getattr(err, "token", None) or b""
        reply(token=base64.b64encode(token).decode(), error=err.gen_message())
