"""The sandbox's first process: it locks itself in, then becomes the runner.

Started by harness/scoring/execution/sandbox.py as

    [unshare --user --map-root-user --net --mount --pid --fork --kill-child --mount-proc]
        python -S -B -P launcher.py MODE FOLDER CPU,MEMORY,FILE,FOLDER_BYTES,PROCESSES RESULT_FD

with the payload on stdin: the nonce on the first line, then per file a line "name length" and
that many bytes. Standard library only, and few imports (it starts once per program): it runs
outside the harness package, in a process about to execute untrusted code.

MODE "namespaces" (inside fresh user, mount, PID and network namespaces, as root of the user
namespace): mount a size-limited tmpfs on FOLDER (the program's only writable place; the host
folder stays empty), make every other mount read-only, empty the capability bounding set so the
runner starts with no capability at all. MODE "rlimits": no namespaces; write the files into
FOLDER on the host. Both modes then set no_new_privs, install the seccomp filter (no new
processes, no sockets, no mount/unshare/setns/ptrace), set the rlimits, hand the nonce to the
runner through a pipe on stdin and exec the runner.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import struct
import sys

LIBC = ctypes.CDLL(None, use_errno=True)
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")

# mount(2) and mount_setattr(2)
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
SYS_MOUNT_SETATTR = 442  # the same number on x86-64 and aarch64
# prctl(2)
PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 22, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
# seccomp BPF
RET_ALLOW, RET_KILL_PROCESS, RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
CLONE_THREAD = 0x10000
# per architecture: audit arch, denied calls -> errno, clone's number, x32 bit to refuse
ARCHES = {
    "x86_64": (0xC000003E, {57: errno.EAGAIN, 58: errno.EAGAIN, 435: errno.ENOSYS, 41: errno.EACCES,
                            272: errno.EPERM, 308: errno.EPERM, 165: errno.EPERM, 166: errno.EPERM,
                            101: errno.EPERM}, 56, 0x40000000),
    "aarch64": (0xC00000B7, {435: errno.ENOSYS, 198: errno.EACCES, 97: errno.EPERM, 268: errno.EPERM,
                             40: errno.EPERM, 39: errno.EPERM, 117: errno.EPERM}, 220, None),
}
# x86-64: fork 57, vfork 58, clone3 435 (ENOSYS: the C library falls back to clone), socket 41,
# unshare 272, setns 308, mount 165, umount2 166, ptrace 101; aarch64 has no fork/vfork.


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount_setattr(path: str, flags: int, set_: int = 0, clear: int = 0) -> None:
    attr = MountAttr(set_, clear, 0, 0)
    _check(LIBC.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), flags, ctypes.byref(attr),
                        ctypes.sizeof(attr)), f"mount_setattr {path}")


def lock_filesystem(folder: str, folder_bytes: int) -> None:
    """A private tmpfs on `folder`, every other mount read-only (we are root of a new user namespace)."""
    _check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    options = f"size={folder_bytes},mode=0700".encode()
    _check(LIBC.mount(b"tmpfs", folder.encode(), b"tmpfs", 0, options), f"tmpfs on {folder}")
    _mount_setattr("/", AT_RECURSIVE, set_=MOUNT_ATTR_RDONLY)
    _mount_setattr(folder, 0, clear=MOUNT_ATTR_RDONLY)  # set by us, not inherited: not locked


def drop_capabilities() -> None:
    """Empty the bounding set: the exec'd runner gets no capability, even as uid 0 of the namespace."""
    for cap in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL:  # past the last capability this kernel knows
                break
            _check(-1, f"drop capability {cap}")
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def seccomp_program(machine: str) -> bytes | None:
    """The BPF filter as bytes (None on an architecture without a table)."""
    if machine not in ARCHES:
        return None
    arch, denied, clone, x32 = ARCHES[machine]

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k)

    prog = [op(LD_W_ABS, 4), op(JEQ_K, arch, 1, 0), op(RET_K, RET_KILL_PROCESS), op(LD_W_ABS, 0)]
    if x32 is not None:  # x32 system calls carry this bit; refuse them all
        prog += [op(JGE_K, x32, 0, 1), op(RET_K, RET_ERRNO | errno.ENOSYS)]
    for number, code in denied.items():
        prog += [op(JEQ_K, number, 0, 1), op(RET_K, RET_ERRNO | code)]
    # clone: threads (CLONE_THREAD in the low word of the first argument) only
    prog += [op(JEQ_K, clone, 0, 2), op(LD_W_ABS, 16), op(JSET_K, CLONE_THREAD, 0, 1),
             op(RET_K, RET_ALLOW), op(RET_K, RET_ERRNO | errno.EAGAIN)]
    return b"".join(prog)


def install_seccomp(program: bytes | None) -> None:
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if program is None:
        return
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(buffer))
    fbuf = ctypes.create_string_buffer(fprog, len(fprog))
    _check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fbuf, 0, 0), "seccomp")


def become_child() -> None:
    """Fork: the child goes on to run the program; this process, PID 1 of the namespace, waits.

    The kernel ignores signals of default action sent to a PID namespace's init, SIGXCPU and the
    CPU limit's SIGKILL included, so the program must not be PID 1. Its exit is passed on
    (a signal as 128 + its number); when PID 1 exits, the kernel kills whatever is left."""
    pid = os.fork()
    if pid == 0:
        return
    os.close(0)
    _, status = os.waitpid(pid, 0)
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def set_limits(cpu: int, memory: int, file: int, processes: int) -> None:
    for name, soft, hard in (("RLIMIT_CPU", cpu, cpu + 1), ("RLIMIT_AS", memory, memory),
                             ("RLIMIT_FSIZE", file, file), ("RLIMIT_NPROC", processes, processes),
                             ("RLIMIT_NOFILE", 256, 256), ("RLIMIT_CORE", 0, 0)):
        resource.setrlimit(getattr(resource, name), (soft, hard))


def read_payload(stream) -> tuple[str, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    nonce = stream.readline().decode().strip()
    files = {}
    while header := stream.readline():
        name, length = header.decode().rsplit(" ", 1)
        files[name] = stream.read(int(length))
    return nonce, files


def main() -> None:
    mode, folder, limits, result_fd = sys.argv[1:5]
    cpu, memory, file, folder_bytes, processes = (int(x) for x in limits.split(","))
    nonce, files = read_payload(sys.stdin.buffer)
    if mode == "namespaces":
        lock_filesystem(folder, folder_bytes)
    for name, data in files.items():
        with open(os.path.join(folder, os.path.basename(name)), "wb") as f:
            f.write(data)
    if mode == "namespaces":
        drop_capabilities()
        become_child()
    os.chdir(folder)
    read, write = os.pipe()  # the nonce reaches the runner here, and nowhere else
    os.write(write, nonce.encode())
    os.close(write)
    os.dup2(read, 0)
    os.close(read)
    install_seccomp(seccomp_program(os.uname().machine))
    set_limits(cpu, memory, file, processes)
    os.execv(sys.executable, [sys.executable, "-S", "-B", "-P", "-u", RUNNER, result_fd])


if __name__ == "__main__":
    main()
