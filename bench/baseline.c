/* The C floor for bench/run.ts: the same loops as the Node implementations, straight against MIT GSS-API.
 * Usage: baseline establish <target> <iterations>      -> {"ms":[...], "initiatorMs":[...]}
 *        baseline protect <target> <size> <iterations> -> {"wrapMs":[...], "micMs":[...]}
 *        baseline accept <target> <iterations>        -> {"ms":[...]}
 * establish: SPNEGO initiator with mutual authentication, accepted in-process (default keytab), per iteration.
 * protect: on one established context, gss_wrap by the initiator + gss_unwrap by the acceptor (and get_mic +
 * verify_mic), per iteration.
 * accept: the initiator's first tokens (SPNEGO, mutual) are made beforehand, then each is accepted by a new acceptor
 * context (gss_accept_sec_context: token in, AP-REP out), timed per accept, as bench/run.ts's accept-cached does. The environment (KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME) names the realm. */
#include <gssapi/gssapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gss_OID_desc spnego = {6, "\x2b\x06\x01\x05\x05\x02"};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check(OM_uint32 major, OM_uint32 minor, const char *what) {
  if (GSS_ERROR(major)) {
    fprintf(stderr, "%s failed: major 0x%x minor %d\n", what, major, (int)minor);
    exit(1);
  }
}

/* One establishment; returns the time spent in the initiator alone through *init_ms. */
static void establish(gss_name_t target, gss_ctx_id_t *ictx, gss_ctx_id_t *actx, double *init_ms) {
  OM_uint32 minor, major;
  gss_buffer_desc itok = GSS_C_EMPTY_BUFFER, atok = GSS_C_EMPTY_BUFFER;
  double t = now_ms();
  major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, ictx, target, &spnego,
                               GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                               GSS_C_NO_BUFFER, NULL, &itok, NULL, NULL);
  *init_ms = now_ms() - t;
  check(major, minor, "init 1");
  while (1) {
    major = gss_accept_sec_context(&minor, actx, GSS_C_NO_CREDENTIAL, &itok, GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL,
                                   &atok, NULL, NULL, NULL);
    check(major, minor, "accept");
    gss_release_buffer(&minor, &itok);
    if (atok.length == 0) break;
    t = now_ms();
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, ictx, target, &spnego,
                                 GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG, 0,
                                 GSS_C_NO_CHANNEL_BINDINGS, &atok, NULL, &itok, NULL, NULL);
    *init_ms += now_ms() - t;
    check(major, minor, "init 2");
    gss_release_buffer(&minor, &atok);
    if (itok.length == 0) break;
  }
  gss_release_buffer(&minor, &itok);
  gss_release_buffer(&minor, &atok);
}

int main(int argc, char **argv) {
  OM_uint32 minor = 0;
  if (argc < 4) return 2;
  gss_buffer_desc name = {strlen(argv[2]), argv[2]};
  gss_name_t target;
  check(gss_import_name(&minor, &name, GSS_C_NT_HOSTBASED_SERVICE, &target), minor, "import");
  if (strcmp(argv[1], "establish") == 0) {
    int n = atoi(argv[3]);
    printf("{\"ms\":[");
    double *init = calloc(n, sizeof(double));
    for (int i = 0; i < n; i++) {
      gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
      double t = now_ms();
      establish(target, &ictx, &actx, &init[i]);
      printf("%s%.4f", i ? "," : "", now_ms() - t);
      gss_delete_sec_context(&minor, &ictx, NULL);
      gss_delete_sec_context(&minor, &actx, NULL);
    }
    printf("],\"initiatorMs\":[");
    for (int i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", init[i]);
    printf("]}\n");
    return 0;
  }
  if (strcmp(argv[1], "accept") == 0) {
    int n = atoi(argv[3]);
    gss_buffer_desc *tokens = calloc(n, sizeof(gss_buffer_desc));
    for (int i = 0; i < n; i++) {
      gss_ctx_id_t ictx = GSS_C_NO_CONTEXT;
      check(gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ictx, target, &spnego,
                                 GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                 GSS_C_NO_BUFFER, NULL, &tokens[i], NULL, NULL), minor, "init");
      gss_delete_sec_context(&minor, &ictx, NULL);
    }
    printf("{\"ms\":[");
    for (int i = 0; i < n; i++) {
      gss_ctx_id_t actx = GSS_C_NO_CONTEXT;
      gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
      double t = now_ms();
      check(gss_accept_sec_context(&minor, &actx, GSS_C_NO_CREDENTIAL, &tokens[i], GSS_C_NO_CHANNEL_BINDINGS, NULL,
                                   NULL, &out, NULL, NULL, NULL), minor, "accept");
      printf("%s%.4f", i ? "," : "", now_ms() - t);
      gss_release_buffer(&minor, &out);
      gss_delete_sec_context(&minor, &actx, NULL);
      gss_release_buffer(&minor, &tokens[i]);
    }
    printf("]}\n");
    return 0;
  }
  if (strcmp(argv[1], "protect") == 0 && argc >= 5) {
    size_t size = (size_t)atol(argv[3]);
    int n = atoi(argv[4]);
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    double ignored;
    establish(target, &ictx, &actx, &ignored);
    gss_buffer_desc msg = {size, malloc(size ? size : 1)};
    memset(msg.value, 0x61, size);
    printf("{\"wrapMs\":[");
    for (int i = 0; i < n; i++) {
      gss_buffer_desc wrapped, plain;
      double t = now_ms();
      check(gss_wrap(&minor, ictx, 1, GSS_C_QOP_DEFAULT, &msg, NULL, &wrapped), minor, "wrap");
      check(gss_unwrap(&minor, actx, &wrapped, &plain, NULL, NULL), minor, "unwrap");
      printf("%s%.4f", i ? "," : "", now_ms() - t);
      gss_release_buffer(&minor, &wrapped);
      gss_release_buffer(&minor, &plain);
    }
    printf("],\"micMs\":[");
    for (int i = 0; i < n; i++) {
      gss_buffer_desc mic;
      double t = now_ms();
      check(gss_get_mic(&minor, ictx, GSS_C_QOP_DEFAULT, &msg, &mic), minor, "get_mic");
      check(gss_verify_mic(&minor, actx, &msg, &mic, NULL), minor, "verify_mic");
      printf("%s%.4f", i ? "," : "", now_ms() - t);
      gss_release_buffer(&minor, &mic);
    }
    printf("]}\n");
    return 0;
  }
  return 2;
}
