#!/bin/sh
# Waits for the KDC's provisioning, then serves in the foreground. Apache reads ${WEB_PORT} and ${KN_DIR} from here.
set -eu
while [ ! -f "$OUT/provisioned" ]; do sleep 1; done
export KN_DIR=/var/lib/kn-web
mkdir -p "$KN_DIR/htdocs/private" "$KN_DIR/run" "$KN_DIR/rcache"
cp "$OUT/http.keytab" "$OUT/krb5.conf" "$KN_DIR/"
chown www-data "$KN_DIR/http.keytab" "$KN_DIR/rcache"
echo "hello from a Kerberos-protected page" > "$KN_DIR/htdocs/private/index.txt"
export KRB5_CONFIG="$KN_DIR/krb5.conf" KRB5_KTNAME="FILE:$KN_DIR/http.keytab" KRB5RCACHEDIR="$KN_DIR/rcache"
exec /usr/sbin/apache2 -DFOREGROUND -f "${KN_WEB_CONF:-/etc/kn-web/httpd.conf}"
