#!/bin/sh
# Provisions a throwaway MIT Kerberos realm: kdc.conf, a client krb5.conf, the database, the test principals and
# their keytabs. One script for the Docker image (docker/Dockerfile) and the native test harness
# (test/harness/kdc.ts). With "run" as the first argument it then starts krb5kdc in the foreground.
#
# Environment (all optional):
#   REALM      realm name                          (KN.TEST)
#   KDC_PORT   KDC port on 127.0.0.1, UDP and TCP  (8888)
#   DEAD_PORT  a port where no KDC listens, for the DEAD.TEST realm (KDC_PORT + 1)
#   SLOW_PORT  the port of the SLOW.TEST realm's KDC, which the tests run as a silent one (KDC_PORT + 2); the realm
#              trusts ours (krbtgt/SLOW.TEST@REALM), so a service there is reached with a ticket from ours
#   SLOW_TRANSPORT  prefix of that KDC's address: "tcp/" for Heimdal clients (MIT goes by udp_preference_limit)
#   HOST       host of the HTTP service principals (web.kn.test)
#   OUT        where everything is written         (/out)
#
# Passwords are random per run, written to $OUT/principals.env (mode 600), and never printed.
set -eu

REALM=${REALM:-KN.TEST}
KDC_PORT=${KDC_PORT:-8888}
DEAD_PORT=${DEAD_PORT:-$((KDC_PORT + 1))}
SLOW_PORT=${SLOW_PORT:-$((KDC_PORT + 2))}
SLOW_TRANSPORT=${SLOW_TRANSPORT:-}
HOST=${HOST:-web.kn.test}
OUT=${OUT:-/out}
DOMAIN=${HOST#*.}
SBIN=/usr/sbin

mkdir -p "$OUT"
cd "$OUT"
umask 077

random() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

cat > kdc.conf <<EOF
[kdcdefaults]
 kdc_listen = 127.0.0.1:$KDC_PORT
 kdc_tcp_listen = 127.0.0.1:$KDC_PORT

[realms]
 $REALM = {
  database_name = $OUT/principal
  key_stash_file = $OUT/stash
  acl_file = $OUT/kadm5.acl
  max_life = 10h
  max_renewable_life = 7d
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }

[logging]
 kdc = FILE:$OUT/kdc.log
EOF

# The client configuration: no DNS, explicit ports, TCP (no UDP retransmission waits), a realm with no KDC, and
# no automatic clock correction (so a skewed clock gives KRB5KRB_AP_ERR_SKEW instead of being papered over).
cat > krb5.conf <<EOF
[libdefaults]
 default_realm = $REALM
 dns_lookup_kdc = false
 dns_lookup_realm = false
 dns_canonicalize_hostname = false
 rdns = false
 udp_preference_limit = 1
 kdc_timesync = 0
 forwardable = true
 ignore_acceptor_hostname = false

[realms]
 $REALM = {
  kdc = 127.0.0.1:$KDC_PORT
 }
 DEAD.TEST = {
  kdc = 127.0.0.1:$DEAD_PORT
 }
 SLOW.TEST = {
  kdc = ${SLOW_TRANSPORT}127.0.0.1:$SLOW_PORT
 }

[domain_realm]
 .$DOMAIN = $REALM
 $DOMAIN = $REALM
 .dead.test = DEAD.TEST
 .slow.test = SLOW.TEST
EOF

: > kadm5.acl
export KRB5_CONFIG="$OUT/krb5.conf" KRB5_KDC_PROFILE="$OUT/kdc.conf"
rm -f principal principal.* stash ./*.keytab
"$SBIN/kdb5_util" create -s -r "$REALM" -P "$(random)" > /dev/null

ALICE_PW=$(random)
BOB_PW=$(random)
kadmin() { "$SBIN/kadmin.local" -r "$REALM" -q "$1" > /dev/null; }
kadmin "addprinc -pw $ALICE_PW +requires_preauth alice"
kadmin "addprinc -pw $BOB_PW +requires_preauth bob"
kadmin "addprinc -randkey +requires_preauth svc-client"
kadmin "addprinc -randkey HTTP/$HOST"
kadmin "addprinc -randkey +ok_as_delegate HTTP/deleg.$DOMAIN"
kadmin "addprinc -randkey HTTP/other.$DOMAIN"
kadmin "addprinc -randkey krbtgt/SLOW.TEST@$REALM"
kadmin "ktadd -k $OUT/client.keytab svc-client"
kadmin "ktadd -k $OUT/http.keytab HTTP/$HOST"
kadmin "ktadd -k $OUT/deleg.keytab HTTP/deleg.$DOMAIN"
kadmin "ktadd -k $OUT/other.keytab HTTP/other.$DOMAIN"

cat > principals.env <<EOF
REALM=$REALM
KDC_PORT=$KDC_PORT
DEAD_PORT=$DEAD_PORT
SLOW_PORT=$SLOW_PORT
HOST=$HOST
ALICE=alice@$REALM
ALICE_PASSWORD=$ALICE_PW
BOB=bob@$REALM
BOB_PASSWORD=$BOB_PW
SVC_CLIENT=svc-client@$REALM
HTTP=HTTP/$HOST@$REALM
DELEG=HTTP/deleg.$DOMAIN@$REALM
OTHER=HTTP/other.$DOMAIN@$REALM
EOF
chmod 600 principals.env
# The host user that runs the tests reads the keytabs and the client configuration.
chmod 644 krb5.conf kdc.conf ./*.keytab
touch provisioned

if [ "${1:-}" = run ]; then
  exec "$SBIN/krb5kdc" -n
fi
