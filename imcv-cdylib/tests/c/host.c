/* A minimal TNC client + server in one C program, written for tests/c_host.rs: it loads one
 * IMC and one IMV shared object, offers the TNCC/TNCS functions through bind functions, runs
 * one connection (CREATE, HANDSHAKE, BeginHandshake, messages back and forth with
 * BatchEnding, SolicitRecommendation if needed, the access state, DELETE), then Terminate and
 * dlclose. It prints what happened, one fact per line. TNC_UInt32 is unsigned long. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long U32;
typedef U32 R;
typedef R (*Bind)(U32, char *, void **);
typedef R (*Init)(U32, U32, U32, U32 *);
typedef R (*ProvideBind)(U32, Bind);
typedef R (*Notify)(U32, U32, U32);
typedef R (*ConnFn)(U32, U32);
typedef R (*RecvLong)(U32, U32, U32, unsigned char *, U32, U32, U32, U32, U32);
typedef R (*Term)(U32);

#define MAXQ 64
struct msg { int to_imv; U32 flags, vendor, subtype, src, dst, len; unsigned char *body; };
static struct msg queue[MAXQ];
static int nq = 0, sent_to_imv = 0, sent_to_imc = 0, reported_imc = 0, reported_imv = 0;
static long rec = -1, eval = -1;
static int in_call = 0;

static R enqueue(int to_imv, U32 flags, unsigned char *m, U32 len, U32 v, U32 s, U32 src, U32 dst) {
  if (!in_call) return 8; /* ILLEGAL_OPERATION */
  if (nq >= MAXQ || len > 1 << 24) return 9;
  struct msg *q = &queue[nq++];
  q->to_imv = to_imv; q->flags = flags; q->vendor = v; q->subtype = s; q->src = src; q->dst = dst;
  q->len = len; q->body = malloc(len ? len : 1);
  memcpy(q->body, m, len);
  if (to_imv) sent_to_imv++; else sent_to_imc++;
  return 0;
}

static R c_report(U32 id, U32 *t, U32 n) { (void)id; (void)t; reported_imc = (int)n; return 0; }
static R c_report_long(U32 id, U32 *v, U32 *s, U32 n) { (void)id; (void)v; (void)s; reported_imc = (int)n; return 0; }
static R c_send_long(U32 id, U32 c, U32 f, unsigned char *m, U32 len, U32 v, U32 s, U32 dst) {
  (void)c; return enqueue(1, f, m, len, v, s, id, dst);
}
static R c_send(U32 id, U32 c, unsigned char *m, U32 len, U32 t) {
  (void)c; return enqueue(1, 0, m, len, t >> 8, t & 0xff, id, 0xffff);
}
static R c_retry(U32 id, U32 c, U32 r) { (void)id; (void)c; (void)r; return 5; /* WONT_RETRY */ }
static R get_attr(U32 id, U32 c, U32 a, U32 blen, unsigned char *buf, U32 *out) {
  (void)id; (void)c;
  unsigned char v[4];
  if (a == 0x00559701) { v[0] = 0; v[1] = 0x0f; v[2] = 0xff; v[3] = 0xe0; } /* max message size */
  else if (a == 0x00559700) { v[0] = v[1] = v[2] = v[3] = 0xff; }
  else return 6;
  if (out) *out = 4;
  if (!buf || blen < 4) return 6;
  memcpy(buf, v, 4);
  return 0;
}
static R c_set_attr(U32 id, U32 c, U32 a, U32 l, unsigned char *b) { (void)id; (void)c; (void)a; (void)l; (void)b; return 6; }

static R s_report(U32 id, U32 *t, U32 n) { (void)id; (void)t; reported_imv = (int)n; return 0; }
static R s_report_long(U32 id, U32 *v, U32 *s, U32 n) { (void)id; (void)v; (void)s; reported_imv = (int)n; return 0; }
static R s_send_long(U32 id, U32 c, U32 f, unsigned char *m, U32 len, U32 v, U32 s, U32 dst) {
  (void)c; return enqueue(0, f, m, len, v, s, id, dst);
}
static R s_send(U32 id, U32 c, unsigned char *m, U32 len, U32 t) {
  (void)c; return enqueue(0, 0, m, len, t >> 8, t & 0xff, id, 0xffff);
}
static R s_recommend(U32 id, U32 c, U32 r, U32 e) { (void)id; (void)c; rec = (long)r; eval = (long)e; return 0; }
static char reason[256] = "";
static R s_set_attr(U32 id, U32 c, U32 a, U32 l, unsigned char *b) {
  (void)id; (void)c;
  if (a == 2 && l < sizeof reason) { memcpy(reason, b, l); reason[l] = 0; return 0; }
  if (a == 3) return 0;
  return 6;
}

static R tncc_bind(U32 id, char *name, void **out) {
  (void)id;
  *out = NULL;
  if (!strcmp(name, "TNC_TNCC_ReportMessageTypes")) *out = (void *)c_report;
  else if (!strcmp(name, "TNC_TNCC_ReportMessageTypesLong")) *out = (void *)c_report_long;
  else if (!strcmp(name, "TNC_TNCC_SendMessage")) *out = (void *)c_send;
  else if (!strcmp(name, "TNC_TNCC_SendMessageLong")) *out = (void *)c_send_long;
  else if (!strcmp(name, "TNC_TNCC_RequestHandshakeRetry")) *out = (void *)c_retry;
  else if (!strcmp(name, "TNC_TNCC_GetAttribute")) *out = (void *)get_attr;
  else if (!strcmp(name, "TNC_TNCC_SetAttribute")) *out = (void *)c_set_attr;
  /* Unknown names: SUCCESS with NULL, as wpa_supplicant and the TCG SDK answer. */
  return 0;
}

static R tncs_bind(U32 id, char *name, void **out) {
  (void)id;
  *out = NULL;
  if (!strcmp(name, "TNC_TNCS_ReportMessageTypes")) *out = (void *)s_report;
  else if (!strcmp(name, "TNC_TNCS_ReportMessageTypesLong")) *out = (void *)s_report_long;
  else if (!strcmp(name, "TNC_TNCS_SendMessage")) *out = (void *)s_send;
  else if (!strcmp(name, "TNC_TNCS_SendMessageLong")) *out = (void *)s_send_long;
  else if (!strcmp(name, "TNC_TNCS_RequestHandshakeRetry")) *out = (void *)c_retry;
  else if (!strcmp(name, "TNC_TNCS_GetAttribute")) *out = (void *)get_attr;
  else if (!strcmp(name, "TNC_TNCS_SetAttribute")) *out = (void *)s_set_attr;
  else if (!strcmp(name, "TNC_TNCS_ProvideRecommendation")) *out = (void *)s_recommend;
  else return 6;
  return 0;
}

struct plugin { void *lib; Init init; ProvideBind bind; Notify notify; ConnFn main; RecvLong recv; ConnFn batch_ending; Term term; };

static int load(struct plugin *p, const char *path, const char *pre, const char *main) {
  char n[128];
  p->lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!p->lib) { printf("dlopen failed: %s\n", dlerror()); return -1; }
#define SYM(f, s) (snprintf(n, sizeof n, "%s%s", pre, s), (f) = dlsym(p->lib, n))
  SYM(p->init, "Initialize"); SYM(p->bind, "ProvideBindFunction"); SYM(p->notify, "NotifyConnectionChange");
  SYM(p->main, main); SYM(p->recv, "ReceiveMessageLong"); SYM(p->batch_ending, "BatchEnding");
  SYM(p->term, "Terminate");
  if (!p->init || !p->bind || !p->main || !p->recv) { printf("missing symbol in %s\n", path); return -1; }
  return 0;
}

static void deliver(struct plugin *to, U32 id, int to_imv) {
  int i, n = nq;
  for (i = 0; i < n; i++) {
    struct msg *q = &queue[i];
    if (q->to_imv != to_imv || !q->body) continue;
    unsigned char *b = q->body;
    q->body = NULL;
    R r = to->recv(id, 1, q->flags, b, q->len, q->vendor, q->subtype, q->src, q->dst);
    if (r) printf("receive returned %lu\n", r);
    free(b);
  }
}

static int pending(int to_imv) {
  for (int i = 0; i < nq; i++)
    if (queue[i].to_imv == to_imv && queue[i].body) return 1;
  return 0;
}

int main(int argc, char **argv) {
  struct plugin imc, imv;
  U32 v = 0;
  if (argc != 3) return 2;
  if (load(&imc, argv[1], "TNC_IMC_", "BeginHandshake") || load(&imv, argv[2], "TNC_IMV_", "SolicitRecommendation")) return 1;
  R r = imc.init(1, 1, 1, &v);
  printf("imc init=%lu version=%lu\n", r, v);
  printf("imc second init=%lu\n", imc.init(1, 1, 1, &v));
  r = imc.bind(1, tncc_bind);
  printf("imc bind=%lu types=%d\n", r, reported_imc);
  v = 0;
  printf("imv init v2 only=%lu\n", imv.init(1, 2, 2, &v));
  r = imv.init(1, 1, 1, &v);
  printf("imv init=%lu version=%lu\n", r, v);
  r = imv.bind(1, tncs_bind);
  printf("imv bind=%lu types=%d\n", r, reported_imv);
  in_call = 1;
  imc.notify(1, 1, 0); imv.notify(1, 1, 0); /* CREATE */
  imc.notify(1, 1, 1); imv.notify(1, 1, 1); /* HANDSHAKE */
  printf("begin=%lu\n", imc.main(1, 1));
  int rounds = 0;
  while (rounds < 20 && rec < 0) {
    rounds++;
    deliver(&imv, 1, 1);
    if (imv.batch_ending) imv.batch_ending(1, 1);
    if (rec >= 0 || !pending(0)) break;
    deliver(&imc, 1, 0);
    if (imc.batch_ending) imc.batch_ending(1, 1);
    if (!pending(1)) break;
  }
  if (rec < 0) printf("solicit=%lu\n", imv.main(1, 1));
  printf("rounds=%d to_imv=%d to_imc=%d\n", rounds, sent_to_imv, sent_to_imc);
  printf("recommendation=%ld evaluation=%ld\n", rec, eval);
  printf("reason=%s\n", reason);
  U32 state = rec == 0 ? 2 : rec == 2 ? 3 : 4;
  imc.notify(1, 1, state); imv.notify(1, 1, state);
  imc.notify(1, 1, 5); imv.notify(1, 1, 5); /* DELETE */
  in_call = 0;
  printf("unknown imc id=%lu\n", imc.main(7, 1));
  R ti = imc.term ? imc.term(1) : 0;
  R tv = imv.term ? imv.term(1) : 0;
  printf("terminate imc=%lu imv=%lu\n", ti, tv);
  dlclose(imc.lib);
  dlclose(imv.lib);
  printf("done\n");
  return 0;
}
