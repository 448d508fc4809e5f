// Hearth voice fan-out in one native call (host/server/voice/native-fanout.ts).
//
// A voice packet goes to every listener of a channel, sealed under each
// listener's own key. Done from JavaScript that costs, per copy, one AEAD call
// through a binding and one dgram.send (a libuv request, a syscall). Here the
// whole fan-out is one call: every copy is sealed with ChaCha20-Poly1305
// (docs/PROTOCOL.md 12.4) into one caller-owned buffer, then all of them leave
// with sendmmsg(2) on the lane's own UDP socket (its descriptor, taken from
// the dgram handle), so nothing is allocated per copy and the syscall count is
// one per 256 copies.
//
// The AEAD is the OpenSSL that Node itself links and exports (node-gyp puts
// its headers on the include path), so there is no library to ship or find.
//
// Nothing here blocks: on EAGAIN/ENOBUFS the call returns how far it got and
// the caller hands the rest to dgram.send, which queues in libuv.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "malloc-tuning.h"

#define HEADER_BYTES 20
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define KEY_BYTES 32
// One address slot: a sockaddr_in or sockaddr_in6 (28 bytes), then its length (u32).
#define ADDR_STRIDE 32
#define ADDR_LEN_AT 28
#define BATCH 256

typedef struct {
  EVP_CIPHER_CTX *ctx;
} State;

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  State *s = data;
  if (s->ctx) EVP_CIPHER_CTX_free(s->ctx);
  free(s);
}

#define CHECK(call)                                                                     \
  do {                                                                                  \
    if ((call) != napi_ok) {                                                            \
      napi_throw_error(env, NULL, "hearth-sendmmsg: bad arguments");                    \
      return NULL;                                                                      \
    }                                                                                   \
  } while (0)

// Any TypedArray (Buffer, Uint32Array, Int32Array): pointer to its first byte and its size in bytes.
static int bytes_of(napi_env env, napi_value v, uint8_t **ptr, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return -1;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok) return -1;
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
  }
  *ptr = data;
  *len = length * elem;
  return 0;
}

static int u32_of(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok ? 0 : -1;
}

static State *state(napi_env env) {
  State *s = NULL;
  napi_get_instance_data(env, (void **)&s);
  return s;
}

// Seals copies [0, n): copy i at out + i * size under keys + slots[i] * 32.
static int seal_all(State *s, const uint8_t *keys, size_t keys_len, const uint32_t *slots, uint32_t n,
                    const uint8_t *header, const uint8_t *payload, uint32_t plen, uint8_t *out) {
  const size_t size = HEADER_BYTES + (size_t)plen + TAG_BYTES;
  EVP_CIPHER_CTX *ctx = s->ctx;
  for (uint32_t i = 0; i < n; i++) {
    size_t k = (size_t)slots[i] * KEY_BYTES;
    if (k + KEY_BYTES > keys_len) return -1;
    uint8_t *d = out + (size_t)i * size;
    memcpy(d, header, HEADER_BYTES);
    int outl = 0, fin = 0;
    // Re-keying the one context: no allocation per copy. The nonce is header bytes 0..11.
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, keys + k, header) != 1) return -1;
    if (EVP_EncryptUpdate(ctx, NULL, &outl, header, HEADER_BYTES) != 1) return -1;
    if (plen > 0 && EVP_EncryptUpdate(ctx, d + HEADER_BYTES, &outl, payload, (int)plen) != 1) return -1;
    if (EVP_EncryptFinal_ex(ctx, d + HEADER_BYTES + (plen > 0 ? outl : 0), &fin) != 1) return -1;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, d + HEADER_BYTES + plen) != 1) return -1;
  }
  return 0;
}

// Sends copies [from, n). Returns the index it stopped at: n when all went out,
// less when the socket would block (the caller sends the rest another way).
// A copy the kernel refuses for any other reason is skipped and counted.
static uint32_t send_all(int fd, uint8_t *out, size_t size, uint32_t from, uint32_t n, const uint8_t *addrs,
                         size_t addrs_len, const uint32_t *slots, int32_t *result) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  uint32_t i = from;
  while (i < n) {
    uint32_t m = n - i < BATCH ? n - i : BATCH;
    for (uint32_t j = 0; j < m; j++) {
      size_t a = (size_t)slots[i + j] * ADDR_STRIDE;
      uint32_t alen = 0;
      if (a + ADDR_STRIDE <= addrs_len) memcpy(&alen, addrs + a + ADDR_LEN_AT, 4);
      iov[j].iov_base = out + (size_t)(i + j) * size;
      iov[j].iov_len = size;
      memset(&msgs[j], 0, sizeof msgs[j]);
      msgs[j].msg_hdr.msg_name = alen == 0 ? NULL : (void *)(addrs + a);
      msgs[j].msg_hdr.msg_namelen = alen;
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, m, MSG_DONTWAIT);
    if (r > 0) {
      i += (uint32_t)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      result[2] = errno;
      break;
    }
    // The first message of the batch failed (e.g. no route, EPERM from a
    // firewall, or no address): drop that copy, go on with the next.
    result[1]++;
    result[2] = r < 0 ? errno : 0;
    i++;
  }
  result[0] = (int32_t)i;
  return i;
}

// encodeAddress(table, slot, ip, port) -> 4 | 6 | 0 (not an IP literal: slot cleared)
static napi_value encode_address(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *table;
  size_t table_len;
  uint32_t slot, port;
  char ip[64];
  size_t ip_len;
  if (argc < 4 || bytes_of(env, argv[0], &table, &table_len) || u32_of(env, argv[1], &slot) || u32_of(env, argv[3], &port) ||
      napi_get_value_string_utf8(env, argv[2], ip, sizeof ip, &ip_len) != napi_ok || port > 65535 ||
      (size_t)slot * ADDR_STRIDE + ADDR_STRIDE > table_len) {
    napi_throw_error(env, NULL, "hearth-sendmmsg: encodeAddress(table, slot, ip, port)");
    return NULL;
  }
  uint8_t *d = table + (size_t)slot * ADDR_STRIDE;
  memset(d, 0, ADDR_STRIDE);
  int family = 0;
  uint32_t len = 0;
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  memset(&a4, 0, sizeof a4);
  memset(&a6, 0, sizeof a6);
  if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    memcpy(d, &a4, sizeof a4);
    len = sizeof a4;
    family = 4;
  } else if (inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    memcpy(d, &a6, sizeof a6);
    len = sizeof a6;
    family = 6;
  }
  memcpy(d + ADDR_LEN_AT, &len, 4);
  napi_value r;
  CHECK(napi_create_int32(env, family, &r));
  return r;
}

// seal(keys, slots, n, header, payload, out) -> undefined; throws if a slot or the output is out of range.
static napi_value seal(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *keys, *slots8, *header, *payload, *out;
  size_t keys_len, slots_len, header_len, plen, out_len;
  uint32_t n;
  if (argc < 6 || bytes_of(env, argv[0], &keys, &keys_len) || bytes_of(env, argv[1], &slots8, &slots_len) || u32_of(env, argv[2], &n) ||
      bytes_of(env, argv[3], &header, &header_len) || bytes_of(env, argv[4], &payload, &plen) || bytes_of(env, argv[5], &out, &out_len) ||
      header_len != HEADER_BYTES || (size_t)n * 4 > slots_len || (size_t)n * (HEADER_BYTES + plen + TAG_BYTES) > out_len || plen > 65507) {
    napi_throw_error(env, NULL, "hearth-sendmmsg: seal(keys, slots, n, header, payload, out)");
    return NULL;
  }
  if (seal_all(state(env), keys, keys_len, (const uint32_t *)slots8, n, header, payload, (uint32_t)plen, out) != 0) {
    napi_throw_error(env, NULL, "hearth-sendmmsg: seal failed");
    return NULL;
  }
  return NULL;
}

// send(fd, out, size, from, n, addrs, slots, result) -> index reached (result[0]); result[1] += refused, result[2] = last errno
static napi_value send_(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t fd, size, from, n;
  uint8_t *out, *addrs, *slots8, *res8;
  size_t out_len, addrs_len, slots_len, res_len;
  if (argc < 8 || u32_of(env, argv[0], &fd) || bytes_of(env, argv[1], &out, &out_len) || u32_of(env, argv[2], &size) ||
      u32_of(env, argv[3], &from) || u32_of(env, argv[4], &n) || bytes_of(env, argv[5], &addrs, &addrs_len) ||
      bytes_of(env, argv[6], &slots8, &slots_len) || bytes_of(env, argv[7], &res8, &res_len) || res_len < 12 ||
      (size_t)n * size > out_len || (size_t)n * 4 > slots_len || from > n) {
    napi_throw_error(env, NULL, "hearth-sendmmsg: send(fd, out, size, from, n, addrs, slots, result)");
    return NULL;
  }
  uint32_t done = send_all((int)fd, out, size, from, n, addrs, addrs_len, (const uint32_t *)slots8, (int32_t *)res8);
  napi_value r;
  CHECK(napi_create_uint32(env, done, &r));
  return r;
}

// sealAndSend(fd, keys, addrs, slots, n, header, payload, out, result) -> index reached (see send)
static napi_value seal_and_send(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t fd, n;
  uint8_t *keys, *addrs, *slots8, *header, *payload, *out, *res8;
  size_t keys_len, addrs_len, slots_len, header_len, plen, out_len, res_len;
  if (argc < 9 || u32_of(env, argv[0], &fd) || bytes_of(env, argv[1], &keys, &keys_len) || bytes_of(env, argv[2], &addrs, &addrs_len) ||
      bytes_of(env, argv[3], &slots8, &slots_len) || u32_of(env, argv[4], &n) || bytes_of(env, argv[5], &header, &header_len) ||
      bytes_of(env, argv[6], &payload, &plen) || bytes_of(env, argv[7], &out, &out_len) || bytes_of(env, argv[8], &res8, &res_len) ||
      res_len < 12 || header_len != HEADER_BYTES || plen > 65507 || (size_t)n * 4 > slots_len ||
      (size_t)n * (HEADER_BYTES + plen + TAG_BYTES) > out_len) {
    napi_throw_error(env, NULL, "hearth-sendmmsg: sealAndSend(fd, keys, addrs, slots, n, header, payload, out, result)");
    return NULL;
  }
  const uint32_t *slots = (const uint32_t *)slots8;
  if (seal_all(state(env), keys, keys_len, slots, n, header, payload, (uint32_t)plen, out) != 0) {
    napi_throw_error(env, NULL, "hearth-sendmmsg: seal failed");
    return NULL;
  }
  uint32_t done = send_all((int)fd, out, HEADER_BYTES + plen + TAG_BYTES, 0, n, addrs, addrs_len, slots, (int32_t *)res8);
  napi_value r;
  CHECK(napi_create_uint32(env, done, &r));
  return r;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  // One cipher context per JS thread (a worker thread gets its own instance data).
  State *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->ctx = EVP_CIPHER_CTX_new();
  if (s->ctx == NULL || EVP_EncryptInit_ex(s->ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) != 1) {
    free_state(env, s, NULL);
    napi_throw_error(env, NULL, "hearth-sendmmsg: no ChaCha20-Poly1305 in this Node's OpenSSL");
    return NULL;
  }
  napi_set_instance_data(env, s, free_state, NULL);
  napi_property_descriptor props[] = {
    {"encodeAddress", NULL, encode_address, NULL, NULL, NULL, napi_default, NULL},
    {"seal", NULL, seal, NULL, NULL, NULL, napi_default, NULL},
    {"send", NULL, send_, NULL, NULL, NULL, napi_default, NULL},
    {"sealAndSend", NULL, seal_and_send, NULL, NULL, NULL, napi_default, NULL},
    {"tuneMalloc", NULL, malloc_tune, NULL, NULL, NULL, napi_default, NULL},
    {"trimMalloc", NULL, malloc_trim_, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value v;
  napi_create_uint32(env, ADDR_STRIDE, &v);
  napi_set_named_property(env, exports, "ADDR_STRIDE", v);
  return exports;
}
