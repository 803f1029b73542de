/* A small IF-IMC 1.3 collector written for the tests (tests/ffi_host.rs in if-imv).
 * It reports what the host answered inside the messages it sends, so the test can check
 * every callback from the other end. Variants (-D): OMIT_BEGIN (mandatory symbol missing),
 * WRONG_VERSION (Initialize says NO_COMMON_VERSION), MISBEHAVE (bad IDs, length lies,
 * NULL pointers). TNC_UInt32 is unsigned long, as in every IF-IMC header. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef unsigned long U32;
typedef U32 R;
typedef R (*Bind)(U32, char *, void **);
typedef R (*ReportLong)(U32, U32 *, U32 *, U32);
typedef R (*Send)(U32, U32, unsigned char *, U32, U32);
typedef R (*SendLong)(U32, U32, U32, unsigned char *, U32, U32, U32, U32);
typedef R (*Retry)(U32, U32, U32);
typedef R (*GetAttr)(U32, U32, U32, U32, unsigned char *, U32 *);
typedef R (*SetAttr)(U32, U32, U32, U32, unsigned char *);
typedef R (*Reserve)(U32, U32 *);

__attribute__((unused)) static U32 my_id, extra_id;
static ReportLong report_long;
static Send send_short;
static SendLong send_long;
static Retry retry;
static GetAttr get_attr;
static SetAttr set_attr;
static Reserve reserve;
static R bogus_rc = 99, reserve_rc = 99, illegal_rc = 99, setattr_rc = 99, thread_rc = 99;
static R retry_rc = 99;
__attribute__((unused)) static int bogus_null = 0, handshakes = 0, retried = 0;
static char lang[64] = "?";
static U32 last_state = 99;

R TNC_IMC_Initialize(U32 id, U32 min, U32 max, U32 *out) {
#ifdef WRONG_VERSION
  (void)id; (void)min; (void)max; (void)out;
  return 3; /* NO_COMMON_VERSION */
#else
  if (min > 1 || max < 1) return 3;
  my_id = id;
  *out = 1;
  return 0;
#endif
}

R TNC_IMC_ProvideBindFunction(U32 id, Bind bind) {
  void *p = (void *)1;
  bogus_rc = bind(id, "TNC_TNCC_NoSuchFunction", &p);
  bogus_null = p == NULL;
  if (bind(id, "TNC_TNCC_ReportMessageTypesLong", (void **)&report_long) ||
      bind(id, "TNC_TNCC_SendMessage", (void **)&send_short) ||
      bind(id, "TNC_TNCC_SendMessageLong", (void **)&send_long) ||
      bind(id, "TNC_TNCC_RequestHandshakeRetry", (void **)&retry) ||
      bind(id, "TNC_TNCC_GetAttribute", (void **)&get_attr) ||
      bind(id, "TNC_TNCC_SetAttribute", (void **)&set_attr) ||
      bind(id, "TNC_TNCC_ReserveAdditionalIMCID", (void **)&reserve))
    return 10;
  U32 vendors[1] = {0}, subtypes[1] = {1}; /* IETF Operating System */
  R r = report_long(id, vendors, subtypes, 1);
  if (r) return r;
  reserve_rc = reserve(id, &extra_id);
  return 0;
}

R TNC_IMC_NotifyConnectionChange(U32 id, U32 conn, U32 state) {
  last_state = state;
  if (state == 0) { /* CREATE: attributes, and sending is not allowed here */
    unsigned char buf[63];
    U32 len = 0;
    if (get_attr(id, conn, 1, sizeof buf, buf, &len) == 0 && len < sizeof buf) {
      memcpy(lang, buf, len);
      lang[len] = 0;
    }
    illegal_rc = send_short(id, conn, (unsigned char *)"x", 1, 1);
    setattr_rc = set_attr(id, conn, 2, 1, (unsigned char *)"x");
  }
  return 0;
}

struct retry_args { U32 id, conn; };
__attribute__((unused)) static void *retry_thread(void *a) {
  struct retry_args *r = a;
  thread_rc = retry(r->id, r->conn, 3); /* IMC_PERIODIC, from another thread */
  return NULL;
}

#ifndef OMIT_BEGIN
R TNC_IMC_BeginHandshake(U32 id, U32 conn) {
  char msg[512];
  handshakes++;
#ifdef MISBEHAVE
  unsigned char small[16] = {0};
  U32 dummy = 0;
  R foreign = send_short(id + 100, conn, small, sizeof small, 1);
  R lie = send_short(id, conn, small, (U32)1 << 40, 1);
  R null = send_short(id, conn, NULL, 5, 1);
  R badconn = send_short(id, conn + 77, small, 1, 1);
  R wild = send_short(id, conn, small, 1, 0xff);
  R getnull = get_attr(id, conn, 0x00559701, 4, NULL, &dummy);
  R flags = send_long(id, conn, 1, small, 1, 0, 1, 0xffff);
  R bigid = send_short((U32)1 << 33, conn, small, 1, 1);
  snprintf(msg, sizeof msg,
           "c-imc bad foreign=%lu lie=%lx null=%lu conn=%lu wild=%lu getnull=%lu flags=%lu bigid=%lu",
           foreign, lie, null, badconn, wild, getnull, flags, bigid);
#else
  if (handshakes == 1) {
    struct retry_args a = {id, conn};
    pthread_t t;
    if (pthread_create(&t, NULL, retry_thread, &a) == 0) pthread_join(t, NULL);
  }
  snprintf(msg, sizeof msg,
           "c-imc hello n=%d lang=%s bogus=%lu null=%d reserve=%lu extra=%lu illegal=%lu setattr=%lu thread=%lu retry=%lu",
           handshakes, lang, bogus_rc, bogus_null, reserve_rc, extra_id, illegal_rc, setattr_rc,
           thread_rc, retry_rc);
#endif
  return send_short(id, conn, (unsigned char *)msg, strlen(msg), 1);
}
#endif

R TNC_IMC_ReceiveMessageLong(U32 id, U32 conn, U32 flags, unsigned char *m, U32 len, U32 vendor,
                             U32 subtype, U32 src, U32 dst) {
  char msg[600];
  (void)vendor; (void)subtype;
  if (len < 3 || memcmp(m, "ask", 3) != 0) return 0;
  if (!retried) { /* one retry, from inside a call */
    retried = 1;
    retry_rc = retry(id, conn, 1); /* IMC_SERIOUS_EVENT */
  }
  int n = snprintf(msg, sizeof msg, "c-imc re:%.*s flags=%lx dst=%lu", (int)(len > 400 ? 400 : len),
                   m, flags, dst);
  /* From the additional ID, exclusively to the IMV that asked. */
  return send_long(extra_id, conn, 0x80000000UL, (unsigned char *)msg, (U32)n, 0, 1, src);
}

R TNC_IMC_BatchEnding(U32 id, U32 conn) {
  (void)id; (void)conn;
  return 0;
}

R TNC_IMC_Terminate(U32 id) {
  (void)id;
  return 0;
}
