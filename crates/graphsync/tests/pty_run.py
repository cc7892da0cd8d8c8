"""Runs a command on a pseudo-terminal and copies what it draws to stdout.

Usage: python3 pty_run.py COMMAND [ARG...]

The command's environment is ours, plus COLUMNS/LINES for a 100x30
terminal. The exit status is the command's. Used by the CLI tests to see
the live progress display that only a terminal gets.
"""

import os
import pty
import select
import struct
import sys

try:
    import fcntl
    import termios
except ImportError:  # not on a Unix
    sys.exit(77)


def main() -> int:
    argv = sys.argv[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["COLUMNS"] = "100"
        os.environ["LINES"] = "30"
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    out = sys.stdout.buffer
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out.write(data)
        out.flush()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
