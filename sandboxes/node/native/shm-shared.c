/*
 * Maps a region of the plugin's /dev/shm into the plugin, so that a frame is copied straight into
 * the pages the host reads rather than through write(2) (Node itself cannot map memory).
 *
 * The region's pages are allocated before it is mapped: a region that does not fit in the
 * plugin's shm tmpfs then fails here with ENOSPC, where a write through the mapping would have
 * killed the plugin with SIGBUS. Only the plugin can shrink its own regions (the host opens them
 * read-only), so no SIGBUS handler is needed on this side.
 *
 * Exports:
 *   map(fd, size) -> ArrayBuffer   a shared, writable mapping of `size` bytes of `fd`,
 *                                  unmapped when the ArrayBuffer is collected
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
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
    return fail(env, NULL, "map(fd, size) takes an open file descriptor and a positive size");
  }
  char message[128];
  int err = posix_fallocate(fd, 0, (off_t)size);
  if (err != 0) {
    snprintf(message, sizeof message, "the region's %lld bytes could not be allocated: %s", (long long)size,
             strerror(err));
    return fail(env, err == ENOSPC ? "ENOSPC" : NULL, message);
  }
  void *start = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (start == MAP_FAILED) return fail(env, NULL, "the region could not be mapped");
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, start, (size_t)size, finalize, (void *)(uintptr_t)size, &buffer) !=
      napi_ok) {
    /* Node may already have run, or will run, the finalizer: it alone unmaps. */
    return fail(env, NULL, "the mapped region could not be handed to JavaScript");
  }
  return buffer;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor property = {"map", NULL, map, NULL, NULL, NULL, napi_default, NULL};
  if (napi_define_properties(env, exports, 1, &property) != napi_ok) return NULL;
  return exports;
}
