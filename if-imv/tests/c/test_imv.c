/* A small IF-IMV 1.4 verifier written for the tests (tests/ffi_host.rs). It binds the
 * misspelled TNC_TNCC_ReserveAdditionalIMVID as strongSwan's IMVs do, reads the AR identities
 * at CREATE (first with a buffer too small, as a careful plugin would), asks the collector
 * with a short message, sends a long one from its additional ID, and recommends ISOLATE with
 * a reason string once the collector answered. TNC_UInt32 is unsigned long. */
#include <stdio.h>
#include <string.h>

typedef unsigned long U32;
typedef U32 R;
typedef R (*Bind)(U32, char *, void **);
typedef R (*Report)(U32, U32 *, U32);
typedef R (*Send)(U32, U32, unsigned char *, U32, U32);
typedef R (*SendLong)(U32, U32, U32, unsigned char *, U32, U32, U32, U32);
typedef R (*Retry)(U32, U32, U32);
typedef R (*GetAttr)(U32, U32, U32, U32, unsigned char *, U32 *);
typedef R (*SetAttr)(U32, U32, U32, U32, unsigned char *);
typedef R (*Reserve)(U32, U32 *);
typedef R (*Recommend)(U32, U32, U32, U32);

static Report report;
static Send send_short;
static SendLong send_long;
static Retry retry;
static GetAttr get_attr;
static SetAttr set_attr;
static Reserve reserve;
static Recommend recommend;
static U32 extra_id;
static R reserve_rc = 99, small_rc = 99, wrong_reason_rc = 99;
static U32 need = 0;
static char ident[128] = "?";

R TNC_IMV_Initialize(U32 id, U32 min, U32 max, U32 *out) {
  (void)id;
  if (min > 1 || max < 1) return 3;
  *out = 1;
  return 0;
}

R TNC_IMV_ProvideBindFunction(U32 id, Bind bind) {
  if (bind(id, "TNC_TNCS_ReportMessageTypes", (void **)&report) ||
      bind(id, "TNC_TNCS_SendMessage", (void **)&send_short) ||
      bind(id, "TNC_TNCS_SendMessageLong", (void **)&send_long) ||
      bind(id, "TNC_TNCS_RequestHandshakeRetry", (void **)&retry) ||
      bind(id, "TNC_TNCS_GetAttribute", (void **)&get_attr) ||
      bind(id, "TNC_TNCS_SetAttribute", (void **)&set_attr) ||
      bind(id, "TNC_TNCC_ReserveAdditionalIMVID", (void **)&reserve) ||
      bind(id, "TNC_TNCS_ProvideRecommendation", (void **)&recommend))
    return 10;
  U32 types[1] = {0x00000001}; /* IETF Operating System, short form */
  R r = report(id, types, 1);
  if (r) return r;
  reserve_rc = reserve(id, &extra_id);
  return 0;
}

R TNC_IMV_NotifyConnectionChange(U32 id, U32 conn, U32 state) {
  if (state == 0) {
    unsigned char small[4], buf[2048];
    U32 len = 0;
    small_rc = get_attr(id, conn, 0x00559712, sizeof small, small, &need);
    if (get_attr(id, conn, 0x00559712, sizeof buf, buf, &len) == 0 && len <= sizeof buf &&
        len >= 32) {
      /* count(4), then the first identity: 0, vendor(3), type(4), valueLen(4), value */
      U32 vlen = ((U32)buf[12] << 24) | ((U32)buf[13] << 16) | ((U32)buf[14] << 8) | buf[15];
      if (vlen < sizeof ident && 16 + vlen <= len) {
        memcpy(ident, buf + 16, vlen);
        ident[vlen] = 0;
      }
    }
  }
  return 0;
}

R TNC_IMV_ReceiveMessage(U32 id, U32 conn, unsigned char *m, U32 len, U32 type) {
  char msg[512];
  if (len >= 11 && memcmp(m, "c-imc hello", 11) == 0) {
    wrong_reason_rc = retry(id, conn, 0); /* an IMC reason: refused */
    int n = snprintf(msg, sizeof msg,
                     "ask from c-imv ids=%s small=%lu need=%lu reserve=%lu extra=%lu type=%lx wrongreason=%lu",
                     ident, small_rc, need, reserve_rc, extra_id, type, wrong_reason_rc);
    R r = send_short(id, conn, (unsigned char *)msg, (U32)n, 1);
    if (r) return r;
    n = snprintf(msg, sizeof msg, "long from c-imv extra");
    return send_long(extra_id, conn, 0, (unsigned char *)msg, (U32)n, 0, 1, 0xffff);
  }
  if (len >= 9 && memcmp(m, "c-imc re:", 9) == 0) {
    R r = set_attr(id, conn, 2, 14, (unsigned char *)"c-imv: isolate");
    if (!r) r = set_attr(id, conn, 3, 2, (unsigned char *)"en");
    if (r) return r;
    return recommend(id, conn, 2, 1); /* ISOLATE, NONCOMPLIANT_MINOR */
  }
  return 0;
}

R TNC_IMV_SolicitRecommendation(U32 id, U32 conn) {
  return recommend(id, conn, 3, 4); /* NO_RECOMMENDATION, DONT_KNOW */
}

R TNC_IMV_BatchEnding(U32 id, U32 conn) {
  (void)id; (void)conn;
  return 0;
}

R TNC_IMV_Terminate(U32 id) {
  (void)id;
  return 0;
}
