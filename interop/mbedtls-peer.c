/*
 * mbedtls-peer: a minimal TLS 1.2 client or server on mbedTLS 2.28 (Debian libmbedtls-dev),
 * used by interop/main.ts as the "mbedTLS" column of the interop matrix. milagro-tls forked
 * mbedTLS, so this is the closest standard peer to the original Milagro implementation.
 *
 * Usage:
 *   mbedtls-peer client --host H --port P [--servername N] [--ca F] [--cert F --key F]
 *                       [--ciphersuite NAME] [--groups x25519,secp256r1,...] [--message TEXT]
 *                       [--timeout MS]
 *   mbedtls-peer server [--host H] --port P|0 --cert F --key F [--ca F]
 *                       [--ciphersuite NAME] [--groups ...] [--timeout MS]
 * Issue 4 options (both roles unless noted):
 *   --connections N   client: connect N times, resuming the previous session; server: accept N
 *                     connections in turn (session cache + tickets). Prints "RESUMED 0|1" per
 *                     connection (same master secret as the previous connection).
 *   --tickets 0|1     RFC 5077 session tickets (default 1)
 *   --alpn a,b        ALPN protocols; prints "ALPN <name>" when one was agreed
 *   --mfl N           client: ask for max_fragment_length N (512..4096)
 *   --require-cert 1  server: require a client certificate verifying against --ca
 *
 * Client: handshake, send MESSAGE + "\n", read one line back, print it, close_notify.
 * Server: print "LISTENING <port>" once bound, accept one connection, handshake, read one line,
 *         echo it back, close_notify.
 * Both print "CIPHERSUITE <IANA name>" and "VERSION <version>" after the handshake and
 * "RECEIVED <line>" for the line read. Diagnostics go to stderr.
 *
 * Exit codes: 0 ok, 1 usage, 2 setup (bad file / option), 3 connect or accept, 4 handshake,
 *             5 I/O after the handshake, 6 timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/debug.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_SETUP = 2, EXIT_CONNECT = 3, EXIT_HANDSHAKE = 4, EXIT_IO = 5, EXIT_TIMEOUT = 6 };

#define MAX_GROUPS 8

struct options {
  int is_server;
  const char *host;
  const char *port;
  const char *servername;
  const char *ca;
  const char *cert;
  const char *key;
  const char *ciphersuite;
  const char *groups;
  const char *message;
  unsigned timeout_ms;
  unsigned connections;
  int tickets;
  const char *alpn;
  unsigned mfl;
  int require_cert;
};

static void usage(void) {
  fprintf(stderr,
          "usage: mbedtls-peer client --host H --port P [--servername N] [--ca F] [--cert F --key F]\n"
          "                           [--ciphersuite NAME] [--groups g1,g2] [--message TEXT] [--timeout MS]\n"
          "       mbedtls-peer server [--host H] --port P|0 --cert F --key F [--ca F]\n"
          "                           [--ciphersuite NAME] [--groups g1,g2] [--timeout MS]\n");
}

static void report(const char *what, int ret) {
  char buf[200];
  mbedtls_strerror(ret, buf, sizeof buf);
  fprintf(stderr, "mbedtls-peer: %s failed: -0x%04x %s\n", what, (unsigned)-ret, buf);
}

static int parse_args(int argc, char **argv, struct options *o) {
  if (argc < 2) return -1;
  memset(o, 0, sizeof *o);
  o->timeout_ms = 10000;
  o->message = "hello from mbedtls";
  o->connections = 1;
  o->tickets = 1;
  if (strcmp(argv[1], "client") == 0) o->is_server = 0;
  else if (strcmp(argv[1], "server") == 0) o->is_server = 1;
  else return -1;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) { fprintf(stderr, "mbedtls-peer: %s needs a value\n", a); return -1; }
    const char *v = argv[++i];
    if (strcmp(a, "--host") == 0) o->host = v;
    else if (strcmp(a, "--port") == 0) o->port = v;
    else if (strcmp(a, "--servername") == 0) o->servername = v;
    else if (strcmp(a, "--ca") == 0) o->ca = v;
    else if (strcmp(a, "--cert") == 0) o->cert = v;
    else if (strcmp(a, "--key") == 0) o->key = v;
    else if (strcmp(a, "--ciphersuite") == 0) o->ciphersuite = v;
    else if (strcmp(a, "--groups") == 0) o->groups = v;
    else if (strcmp(a, "--message") == 0) o->message = v;
    else if (strcmp(a, "--timeout") == 0) o->timeout_ms = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(a, "--connections") == 0) o->connections = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(a, "--tickets") == 0) o->tickets = atoi(v);
    else if (strcmp(a, "--alpn") == 0) o->alpn = v;
    else if (strcmp(a, "--mfl") == 0) o->mfl = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(a, "--require-cert") == 0) o->require_cert = atoi(v);
    else { fprintf(stderr, "mbedtls-peer: unknown option %s\n", a); return -1; }
  }
  if (o->port == NULL) { fprintf(stderr, "mbedtls-peer: --port is required\n"); return -1; }
  if (!o->is_server && o->host == NULL) { fprintf(stderr, "mbedtls-peer: --host is required\n"); return -1; }
  if (o->is_server && (o->cert == NULL || o->key == NULL)) {
    fprintf(stderr, "mbedtls-peer: server needs --cert and --key\n");
    return -1;
  }
  return 0;
}

/* Accept IANA (TLS_ECDHE_...) or mbedTLS (TLS-ECDHE-...) spellings. */
static int ciphersuite_id(const char *name) {
  char buf[128];
  size_t n = strlen(name);
  if (n + 5 >= sizeof buf) return 0;
  if (strncmp(name, "TLS", 3) != 0) { strcpy(buf, "TLS-"); strcat(buf, name); }
  else strcpy(buf, name);
  for (char *p = buf; *p; p++) if (*p == '_') *p = '-';
  return mbedtls_ssl_get_ciphersuite_id(buf);
}

static int parse_groups(const char *list, mbedtls_ecp_group_id *out) {
  char buf[256];
  int n = 0;
  if (strlen(list) >= sizeof buf) return -1;
  strcpy(buf, list);
  for (char *tok = strtok(buf, ",:"); tok != NULL; tok = strtok(NULL, ",:")) {
    const char *name = tok;
    if (strcmp(tok, "P-256") == 0 || strcmp(tok, "prime256v1") == 0) name = "secp256r1";
    else if (strcmp(tok, "P-384") == 0) name = "secp384r1";
    else if (strcmp(tok, "X25519") == 0) name = "x25519";
    const mbedtls_ecp_curve_info *info = mbedtls_ecp_curve_info_from_name(name);
    if (info == NULL || n >= MAX_GROUPS - 1) {
      fprintf(stderr, "mbedtls-peer: unknown group %s\n", tok);
      return -1;
    }
    out[n++] = info->grp_id;
  }
  out[n] = MBEDTLS_ECP_DP_NONE;
  return n > 0 ? 0 : -1;
}

/* Reads until '\n' (exclusive) or close. Returns length, or a negative mbedTLS error. */
static int read_line(mbedtls_ssl_context *ssl, char *buf, size_t cap) {
  size_t len = 0;
  while (len + 1 < cap) {
    int ret = mbedtls_ssl_read(ssl, (unsigned char *)buf + len, 1);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == 0) break;
    if (ret < 0) return ret;
    if (buf[len] == '\n') break;
    len++;
  }
  buf[len] = '\0';
  return (int)len;
}

static int write_all(mbedtls_ssl_context *ssl, const unsigned char *p, size_t n) {
  while (n > 0) {
    int ret = mbedtls_ssl_write(ssl, p, n);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (ret < 0) return ret;
    p += ret;
    n -= (size_t)ret;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct options o;
  if (parse_args(argc, argv, &o) != 0) { usage(); return EXIT_USAGE; }
  setvbuf(stdout, NULL, _IOLBF, 0);

  int exit_code = EXIT_OK, ret;
  int suites[2] = { 0, 0 };
  mbedtls_ecp_group_id groups[MAX_GROUPS];
  const char *pers = "milagro-ts interop";
  mbedtls_net_context listen_fd, fd;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca, own;
  mbedtls_pk_context pk;
  mbedtls_ssl_cache_context cache;
  mbedtls_ssl_ticket_context ticket;
  mbedtls_ssl_session saved;
  unsigned char last_master[48];
  int have_last = 0;
  const char *alpn_list[8] = { NULL };
  char alpn_buf[256];

  mbedtls_ssl_cache_init(&cache);
  mbedtls_ssl_ticket_init(&ticket);
  mbedtls_ssl_session_init(&saved);
  mbedtls_net_init(&listen_fd);
  mbedtls_net_init(&fd);
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_ssl_init(&ssl);
  mbedtls_ssl_config_init(&conf);
  mbedtls_x509_crt_init(&ca);
  mbedtls_x509_crt_init(&own);
  mbedtls_pk_init(&pk);

#define FAIL(code, what) do { report(what, ret); exit_code = (code); goto done; } while (0)

  if ((ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)pers, strlen(pers))) != 0)
    FAIL(EXIT_SETUP, "ctr_drbg_seed");
  if ((ret = mbedtls_ssl_config_defaults(&conf, o.is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
    FAIL(EXIT_SETUP, "ssl_config_defaults");
  mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
  /* TLS 1.2 only: the protocol milagro-ts speaks. */
  mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_read_timeout(&conf, o.timeout_ms);

  if (o.ciphersuite != NULL) {
    suites[0] = ciphersuite_id(o.ciphersuite);
    if (suites[0] == 0) { fprintf(stderr, "mbedtls-peer: unknown ciphersuite %s\n", o.ciphersuite); exit_code = EXIT_SETUP; goto done; }
    mbedtls_ssl_conf_ciphersuites(&conf, suites);
  }
  if (o.groups != NULL) {
    if (parse_groups(o.groups, groups) != 0) { exit_code = EXIT_SETUP; goto done; }
    mbedtls_ssl_conf_curves(&conf, groups);
  }
  if (o.ca != NULL) {
    if ((ret = mbedtls_x509_crt_parse_file(&ca, o.ca)) != 0) FAIL(EXIT_SETUP, "loading --ca");
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_authmode(&conf, o.is_server ? MBEDTLS_SSL_VERIFY_OPTIONAL : MBEDTLS_SSL_VERIFY_REQUIRED);
  } else {
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
  }
  if (o.is_server) {
    /* Client certificates only when asked for (mutual TLS cases). */
    mbedtls_ssl_conf_authmode(&conf, o.require_cert ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_session_cache(&conf, &cache, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
    if (o.tickets) {
      if ((ret = mbedtls_ssl_ticket_setup(&ticket, mbedtls_ctr_drbg_random, &drbg, MBEDTLS_CIPHER_AES_256_GCM, 86400)) != 0)
        FAIL(EXIT_SETUP, "ssl_ticket_setup");
      mbedtls_ssl_conf_session_tickets_cb(&conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &ticket);
    }
  } else {
    mbedtls_ssl_conf_session_tickets(&conf, o.tickets ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    if (o.mfl != 0) {
      unsigned char code = o.mfl == 512 ? MBEDTLS_SSL_MAX_FRAG_LEN_512 : o.mfl == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                         : o.mfl == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048 : MBEDTLS_SSL_MAX_FRAG_LEN_4096;
      if ((ret = mbedtls_ssl_conf_max_frag_len(&conf, code)) != 0) FAIL(EXIT_SETUP, "conf_max_frag_len");
    }
  }
  if (o.alpn != NULL) {
    size_t n = 0;
    if (strlen(o.alpn) >= sizeof alpn_buf) { fprintf(stderr, "mbedtls-peer: --alpn too long\n"); exit_code = EXIT_SETUP; goto done; }
    strcpy(alpn_buf, o.alpn);
    for (char *tok = strtok(alpn_buf, ","); tok != NULL && n < 7; tok = strtok(NULL, ",")) alpn_list[n++] = tok;
    alpn_list[n] = NULL;
    if ((ret = mbedtls_ssl_conf_alpn_protocols(&conf, alpn_list)) != 0) FAIL(EXIT_SETUP, "conf_alpn_protocols");
  }
  if (o.cert != NULL) {
    if ((ret = mbedtls_x509_crt_parse_file(&own, o.cert)) != 0) FAIL(EXIT_SETUP, "loading --cert");
    if (o.key == NULL) { fprintf(stderr, "mbedtls-peer: --cert needs --key\n"); exit_code = EXIT_SETUP; goto done; }
    if ((ret = mbedtls_pk_parse_keyfile(&pk, o.key, NULL)) != 0) FAIL(EXIT_SETUP, "loading --key");
    if ((ret = mbedtls_ssl_conf_own_cert(&conf, &own, &pk)) != 0) FAIL(EXIT_SETUP, "ssl_conf_own_cert");
  }
  if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) FAIL(EXIT_SETUP, "ssl_setup");

  if (o.is_server) {
    if ((ret = mbedtls_net_bind(&listen_fd, o.host != NULL ? o.host : "127.0.0.1", o.port, MBEDTLS_NET_PROTO_TCP)) != 0)
      FAIL(EXIT_CONNECT, "bind");
    struct sockaddr_storage sa;
    socklen_t salen = sizeof sa;
    unsigned port = 0;
    if (getsockname(listen_fd.fd, (struct sockaddr *)&sa, &salen) == 0) {
      port = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                      : ntohs(((struct sockaddr_in *)&sa)->sin_port);
    }
    printf("LISTENING %u\n", port);
  }
  for (unsigned conn = 0; conn < (o.connections == 0 ? 1 : o.connections); conn++) {
    if (conn > 0) {
      mbedtls_net_free(&fd);
      mbedtls_net_init(&fd);
      if ((ret = mbedtls_ssl_session_reset(&ssl)) != 0) FAIL(EXIT_SETUP, "ssl_session_reset");
    }
    if (o.is_server) {
      if ((ret = mbedtls_net_accept(&listen_fd, &fd, NULL, 0, NULL)) != 0) FAIL(EXIT_CONNECT, "accept");
    } else {
      if ((ret = mbedtls_net_connect(&fd, o.host, o.port, MBEDTLS_NET_PROTO_TCP)) != 0) FAIL(EXIT_CONNECT, "connect");
      if ((ret = mbedtls_ssl_set_hostname(&ssl, o.servername != NULL ? o.servername : o.host)) != 0)
        FAIL(EXIT_SETUP, "ssl_set_hostname");
      if (conn > 0 && (ret = mbedtls_ssl_set_session(&ssl, &saved)) != 0) FAIL(EXIT_SETUP, "ssl_set_session");
    }
    mbedtls_ssl_set_bio(&ssl, &fd, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);

    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
      if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) FAIL(EXIT_TIMEOUT, "handshake (timeout)");
      if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char vbuf[512];
        mbedtls_x509_crt_verify_info(vbuf, sizeof vbuf, "  ", mbedtls_ssl_get_verify_result(&ssl));
        fprintf(stderr, "mbedtls-peer: certificate verification failed:\n%s", vbuf);
      }
      FAIL(EXIT_HANDSHAKE, "handshake");
    }
    printf("CIPHERSUITE %s\n", mbedtls_ssl_get_ciphersuite(&ssl));
    printf("VERSION %s\n", mbedtls_ssl_get_version(&ssl));
    /* Resumed ⇔ the master secret is the previous connection's (mbedTLS 2.28 has no getter). */
    int resumed = have_last && memcmp(last_master, ssl.session->master, 48) == 0;
    memcpy(last_master, ssl.session->master, 48);
    have_last = 1;
    printf("RESUMED %d\n", resumed);
    if (mbedtls_ssl_get_alpn_protocol(&ssl) != NULL) printf("ALPN %s\n", mbedtls_ssl_get_alpn_protocol(&ssl));
    if (o.is_server && mbedtls_ssl_get_peer_cert(&ssl) != NULL) printf("CLIENT_CERT verified\n");
    if (!o.is_server) {
      mbedtls_ssl_session_free(&saved);
      mbedtls_ssl_session_init(&saved);
      if ((ret = mbedtls_ssl_get_session(&ssl, &saved)) != 0) FAIL(EXIT_SETUP, "ssl_get_session");
    }

    char line[4096];
    if (o.is_server) {
      ret = read_line(&ssl, line, sizeof line);
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) FAIL(EXIT_TIMEOUT, "read (timeout)");
      if (ret < 0) FAIL(EXIT_IO, "read");
      printf("RECEIVED %s\n", line);
      size_t n = strlen(line);
      line[n] = '\n';
      if ((ret = write_all(&ssl, (const unsigned char *)line, n + 1)) != 0) FAIL(EXIT_IO, "write");
    } else {
      size_t n = strlen(o.message);
      if ((ret = write_all(&ssl, (const unsigned char *)o.message, n)) != 0 ||
          (ret = write_all(&ssl, (const unsigned char *)"\n", 1)) != 0)
        FAIL(EXIT_IO, "write");
      ret = read_line(&ssl, line, sizeof line);
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) FAIL(EXIT_TIMEOUT, "read (timeout)");
      if (ret < 0) FAIL(EXIT_IO, "read");
      printf("RECEIVED %s\n", line);
    }
    while ((ret = mbedtls_ssl_close_notify(&ssl)) == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {}
    if (ret < 0) FAIL(EXIT_IO, "close_notify");
    if (o.is_server) {
      /* Wait for the client's close_notify (or EOF) before accepting the next connection. */
      unsigned char tmp[64];
      int r;
      do { r = mbedtls_ssl_read(&ssl, tmp, sizeof tmp); } while (r > 0 || r == MBEDTLS_ERR_SSL_WANT_READ);
    }
  }
  ret = 0;

done:
  mbedtls_net_free(&fd);
  mbedtls_net_free(&listen_fd);
  mbedtls_ssl_free(&ssl);
  mbedtls_ssl_config_free(&conf);
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&own);
  mbedtls_pk_free(&pk);
  mbedtls_ssl_session_free(&saved);
  mbedtls_ssl_cache_free(&cache);
  mbedtls_ssl_ticket_free(&ticket);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  return exit_code;
}
