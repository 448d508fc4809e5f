/*
 * The WASI calls wasi-libc makes on QuickJS's behalf, answered inside the
 * module: guests get no WASI (the host never grants it; node:wasi is not a
 * security boundary). Defining the symbols wasi-libc imports through makes the
 * linker resolve them here instead of importing them, so the finished module
 * imports Extism's functions only.
 *   clock_time_get  time 0: guests have no clock (events carry `ts`); Date.now() is 0
 *   fd_write        output is discarded (there is nowhere to print); reports it written
 *   fd_close, fd_fdstat_get, fd_seek   EBADF: there are no files
 */
#include <stdint.h>

#define WASI_EBADF 8

int32_t __imported_wasi_snapshot_preview1_clock_time_get(int32_t id, int64_t precision, int32_t time_ptr) {
  (void)id;
  (void)precision;
  *(uint64_t *)(uintptr_t)time_ptr = 0;
  return 0;
}

int32_t __imported_wasi_snapshot_preview1_fd_write(int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten_ptr) {
  (void)fd;
  uint32_t total = 0;
  const uint32_t *iov = (const uint32_t *)(uintptr_t)iovs;
  for (int32_t i = 0; i < iovs_len; i++) total += iov[2 * i + 1];
  *(uint32_t *)(uintptr_t)nwritten_ptr = total;
  return 0;
}

int32_t __imported_wasi_snapshot_preview1_fd_close(int32_t fd) {
  (void)fd;
  return WASI_EBADF;
}

int32_t __imported_wasi_snapshot_preview1_fd_fdstat_get(int32_t fd, int32_t stat_ptr) {
  (void)fd;
  (void)stat_ptr;
  return WASI_EBADF;
}

int32_t __imported_wasi_snapshot_preview1_fd_seek(int32_t fd, int64_t offset, int32_t whence, int32_t new_offset_ptr) {
  (void)fd;
  (void)offset;
  (void)whence;
  (void)new_offset_ptr;
  return WASI_EBADF;
}
