/*
 * Maps a plugin's shared memory region into the host, so that a consumer reads the plugin's
 * bytes in place instead of copying them out (Node itself cannot map memory).
 *
 * A plugin may shrink a region the host has mapped; touching the lost pages then raises SIGBUS,
 * which would kill the host. So, as Wayland compositors do for client memory pools, a SIGBUS
 * the kernel raises inside a mapped region is answered by putting private zero pages in the
 * whole mapping's place: the access then completes, the consumer reads zeros, and `release`
 * reports it. Any other SIGBUS is treated as if this handler were not there.
 *
 * `release` also puts zero pages in the mapping's place, rather than unmapping it: JavaScript
 * or native work that still holds the buffer then reads zeros instead of faulting, and the
 * address range stays this mapping's until the ArrayBuffer is collected and unmapped.
 *
 * `remap` maps a region again into a released mapping's address range, so that a region
 * announced frame after frame keeps one ArrayBuffer: V8 counts each new one as external memory,
 * and at 6 MB a frame that alone set off a full garbage collection every dozen frames.
 *
 * Exports:
 *   map(fd, size) -> ArrayBuffer         a private, writable mapping of `size` bytes of `fd`
 *   release(ArrayBuffer) -> bool         zeroes it; true if the region shrank while it was mapped
 *   remap(ArrayBuffer, fd) -> undefined  maps `fd` again into a released mapping, same size
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Regions mapped at once, across the process (released ones count until collected). */
#define MAX_MAPPINGS 4096

struct mapping {
  void *start;
  size_t length;
  int slot;
  bool released;
};

/* One per mapping. The SIGBUS handler reads start, length and shrank: the range it answers for
 * while the mapping is lent. `claimed`, `base` (the mapping's address for its whole life) and
 * `owner` belong to whichever thread mapped the region. */
struct slot {
  atomic_bool claimed;
  _Atomic uintptr_t base;
  _Atomic uintptr_t start;
  _Atomic size_t length;
  atomic_bool shrank;
  struct mapping *owner;
};

static struct slot slots[MAX_MAPPINGS];
static struct sigaction previous_sigbus;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;

static bool zero_fill(void *start, size_t length) {
  return mmap(start, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) !=
         MAP_FAILED;
}

/* As if this handler were not there. */
static void pass_on(int signal, siginfo_t *info, void *context) {
  bool fault = info->si_code > 0; /* raised by the kernel for this access, not by kill() */
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    previous_sigbus.sa_sigaction(signal, info, context);
  } else if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(signal);
  } else if (fault) {
    /* A fault cannot be ignored: the access is retried on return and faults again, now fatally. */
    struct sigaction fatal = {0};
    fatal.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &fatal, NULL);
  } else if (previous_sigbus.sa_handler == SIG_DFL) {
    sigaction(SIGBUS, &previous_sigbus, NULL);
    raise(signal); /* delivered, fatally, as soon as this handler returns */
  }
}

static void on_sigbus(int signal, siginfo_t *info, void *context) {
  int saved_errno = errno;
  uintptr_t address = (uintptr_t)info->si_addr;
  bool fault = info->si_code > 0; /* raised by the kernel for an access, not by kill() */
  bool handled = false;
  for (int i = 0; fault && i < MAX_MAPPINGS && !handled; i++) {
    uintptr_t start = atomic_load(&slots[i].start);
    size_t length = atomic_load(&slots[i].length);
    if (start != 0 && address >= start && address - start < length && zero_fill((void *)start, length)) {
      atomic_store(&slots[i].shrank, true);
      handled = true; /* the faulting access is retried, now on zero pages */
    }
  }
  if (!handled) pass_on(signal, info, context);
  errno = saved_errno;
}

static void install_handler(void) {
  struct sigaction action = {0};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  installed = sigaction(SIGBUS, &action, &previous_sigbus) == 0;
}

/* Zero pages in the mapping's place; true if the region shrank while it was mapped. */
static bool zero_out(struct mapping *m) {
  if (m->released) return false;
  m->released = true;
  zero_fill(m->start, m->length);
  struct slot *slot = &slots[m->slot];
  atomic_store(&slot->start, 0);
  atomic_store(&slot->length, 0);
  return atomic_load(&slot->shrank);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint;
  struct slot *slot = &slots[m->slot];
  zero_out(m);
  atomic_store(&slot->base, 0); /* before the address range can be handed out again */
  munmap(m->start, m->length);
  slot->owner = NULL;
  atomic_store(&slot->claimed, false);
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
  atomic_store(&slots[slot].base, (uintptr_t)start);
  atomic_store(&slots[slot].shrank, false);
  atomic_store(&slots[slot].length, (size_t)size);
  atomic_store(&slots[slot].start, (uintptr_t)start);

  napi_value buffer;
  if (napi_create_external_arraybuffer(env, start, (size_t)size, finalize, m, &buffer) != napi_ok) {
    /* Node may already have run, or will run, the finalizer: it alone unmaps and frees. */
    return throw_error(env, "the mapped region could not be handed to JavaScript");
  }
  return buffer;
}

/* The mapping behind an ArrayBuffer from map(), released or not; NULL if there is none. */
static struct mapping *mapping_of(napi_env env, napi_value value) {
  void *data = NULL;
  size_t length;
  bool is_buffer = false;
  if (napi_is_arraybuffer(env, value, &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(env, value, &data, &length) != napi_ok || data == NULL) {
    return NULL;
  }
  for (int i = 0; i < MAX_MAPPINGS; i++) {
    if (atomic_load(&slots[i].base) == (uintptr_t)data) return slots[i].owner;
  }
  return NULL;
}

static napi_value remap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[1], &fd) != napi_ok || fd < 0) {
    return throw_error(env, "remap(buffer, fd) takes an ArrayBuffer from map() and an open file descriptor");
  }
  struct mapping *m = mapping_of(env, argv[0]);
  if (m == NULL || !m->released) return throw_error(env, "remap(buffer, fd) takes a released ArrayBuffer from map()");
  /* Watched before it is mapped: a fault from the first touch on is answered. */
  struct slot *slot = &slots[m->slot];
  atomic_store(&slot->shrank, false);
  atomic_store(&slot->length, m->length);
  atomic_store(&slot->start, (uintptr_t)m->start);
  if (mmap(m->start, m->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
    zero_fill(m->start, m->length); /* a failed MAP_FIXED may have left the range unmapped */
    atomic_store(&slot->start, 0);
    atomic_store(&slot->length, 0);
    return throw_error(env, "the shared memory region could not be mapped");
  }
  m->released = false;
  return NULL;
}

static napi_value release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    return throw_error(env, "release(buffer) takes an ArrayBuffer from map()");
  }
  /* A buffer released already, or transferred away (detached), is left as it is. */
  struct mapping *m = mapping_of(env, argv[0]);
  napi_value result;
  napi_get_boolean(env, m != NULL && zero_out(m), &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  pthread_once(&install_once, install_handler);
  if (!installed) return throw_error(env, "the SIGBUS handler for mapped regions could not be installed");
  napi_property_descriptor properties[] = {
      {"map", NULL, map, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, release, NULL, NULL, NULL, napi_default, NULL},
      {"remap", NULL, remap, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 3, properties) != napi_ok) return NULL;
  return exports;
}
