/*
 * Maps a plugin's shared memory region into the host, so that a consumer reads the plugin's
 * bytes in place instead of copying them out (Node itself cannot map memory).
 *
 * A plugin may shrink a region the host has mapped; touching the lost pages then raises SIGBUS,
 * which would kill the host. So, as Wayland compositors do for client memory pools, a SIGBUS
 * inside a mapped region is answered by replacing the whole mapping with private zero pages:
 * the access then completes, the consumer reads zeros, and `release` reports that the region
 * shrank. A SIGBUS anywhere else goes on to the handler that was there before.
 *
 * Exports:
 *   map(fd, size) -> ArrayBuffer   a private, writable mapping of `size` bytes of `fd`
 *   release(ArrayBuffer) -> bool   unmaps and detaches it; true if the region shrank meanwhile
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Regions mapped at once, across the process. */
#define MAX_MAPPINGS 1024

/* One per mapped region. The SIGBUS handler reads start, length and shrank; `claimed` and
 * `owner` belong to whichever thread mapped the region. */
struct slot {
  atomic_bool claimed;
  _Atomic uintptr_t start;
  _Atomic size_t length;
  atomic_bool shrank;
  struct mapping *owner;
};

/* One mapping, owned by its ArrayBuffer: released by `release`, or else when it is collected. */
struct mapping {
  void *start;
  size_t length;
  int slot;
  bool released;
};

static struct slot slots[MAX_MAPPINGS];
static struct sigaction previous_sigbus;
static atomic_bool handler_installed;

static void on_sigbus(int signal, siginfo_t *info, void *context) {
  uintptr_t address = (uintptr_t)info->si_addr;
  /* Only a fault the kernel raised (si_code > 0) is a touch of a lost page; kill() is not. */
  for (int i = 0; i < MAX_MAPPINGS && info->si_code > 0; i++) {
    uintptr_t start = atomic_load(&slots[i].start);
    size_t length = atomic_load(&slots[i].length);
    if (start != 0 && address >= start && address - start < length) {
      void *zeros = mmap((void *)start, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
      if (zeros != MAP_FAILED) {
        atomic_store(&slots[i].shrank, true);
        return; /* the faulting access is retried, now on zero pages */
      }
    }
  }
  /* Not ours: as if this handler were not there. */
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    previous_sigbus.sa_sigaction(signal, info, context);
  } else if (previous_sigbus.sa_handler == SIG_DFL) {
    /* Delivered again, by default, as soon as this handler returns: the process ends. */
    sigaction(SIGBUS, &previous_sigbus, NULL);
    raise(signal);
  } else if (previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(signal);
  }
}

static bool install_handler(void) {
  bool expected = false;
  if (!atomic_compare_exchange_strong(&handler_installed, &expected, true)) return true;
  struct sigaction action = {0};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  return sigaction(SIGBUS, &action, &previous_sigbus) == 0;
}

static bool unmap(struct mapping *m) {
  if (m->released) return false;
  m->released = true;
  /* Zero pages first, so that no SIGBUS can arise while the slot is cleared, then unmap. */
  mmap(m->start, m->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
  struct slot *slot = &slots[m->slot];
  bool shrank = atomic_load(&slot->shrank);
  atomic_store(&slot->start, 0);
  atomic_store(&slot->length, 0);
  munmap(m->start, m->length);
  slot->owner = NULL;
  atomic_store(&slot->claimed, false);
  return shrank;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint;
  unmap(m);
  free(m);
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  int64_t size;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &size) != napi_ok ||
      fd < 0 || size <= 0) {
    return throw_error(env, "map(fd, size) takes an open file descriptor and a positive size");
  }
  struct mapping *m = malloc(sizeof *m);
  if (m == NULL) return throw_error(env, "out of memory");
  int slot = -1;
  for (int i = 0; i < MAX_MAPPINGS && slot < 0; i++) {
    bool expected = false;
    if (atomic_compare_exchange_strong(&slots[i].claimed, &expected, true)) slot = i;
  }
  if (slot < 0) {
    free(m);
    return throw_error(env, "too many shared memory regions are mapped at once");
  }
  void *start = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (start == MAP_FAILED) {
    free(m);
    atomic_store(&slots[slot].claimed, false);
    return throw_error(env, "the shared memory region could not be mapped");
  }
  *m = (struct mapping){.start = start, .length = (size_t)size, .slot = slot, .released = false};
  slots[slot].owner = m;
  atomic_store(&slots[slot].shrank, false);
  atomic_store(&slots[slot].length, (size_t)size);
  atomic_store(&slots[slot].start, (uintptr_t)start);

  napi_value buffer;
  if (napi_create_external_arraybuffer(env, start, (size_t)size, finalize, m, &buffer) != napi_ok) {
    unmap(m);
    free(m);
    return throw_error(env, "the mapped region could not be handed to JavaScript");
  }
  return buffer;
}

static napi_value release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  size_t length;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(env, argv[0], &data, &length) != napi_ok) {
    return throw_error(env, "release(buffer) takes an ArrayBuffer from map()");
  }
  struct mapping *m = NULL;
  for (int i = 0; i < MAX_MAPPINGS && m == NULL && data != NULL; i++) {
    if (atomic_load(&slots[i].start) == (uintptr_t)data) m = slots[i].owner;
  }
  if (m == NULL) return throw_error(env, "release(buffer): not a mapped region, or already released");
  /* Unmapped now; the record itself is freed when the detached ArrayBuffer is collected. */
  bool shrank = unmap(m);
  napi_detach_arraybuffer(env, argv[0]);
  napi_value result;
  napi_get_boolean(env, shrank, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  if (!install_handler()) return throw_error(env, "the SIGBUS handler for mapped regions could not be installed");
  napi_property_descriptor properties[] = {
      {"map", NULL, map, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, release, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 2, properties) != napi_ok) return NULL;
  return exports;
}
