// Hostile guest: imports WASI to open a file and write to it. With WASI off
// the host must refuse to load it (no fd/path functions are ever reachable).
import { outputString } from "../../../../sdk/assembly/index";

@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: i32, dirflags: i32, path: usize, pathLen: i32, oflags: i32, rightsBase: i64, rightsInh: i64, fdflags: i32, outFd: usize): i32;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: i32, iovs: usize, iovsLen: i32, nwritten: usize): i32;

export function on_command(): i32 {
  const path = String.UTF8.encode("/etc/passwd");
  const outFd = new ArrayBuffer(4);
  const err = path_open(3, 0, changetype<usize>(path), path.byteLength, 0, 0, 0, 0, changetype<usize>(outFd));
  const written = new ArrayBuffer(4);
  fd_write(1, 0, 0, changetype<usize>(written));
  outputString('{"reply":"path_open returned ' + err.toString() + '"}');
  return 0;
}
