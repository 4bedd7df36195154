#!/usr/bin/python3
"""admin_tty.py IGDDCTL FILE PASSWORD [AGAIN] - igddctl passwd FILE at a
terminal (a pseudo-terminal): each line is typed only once the terminal's
echo is off.  Prints what the terminal showed; exits with igddctl's status
(3 when a prompt never came or the echo stayed on)."""
import os
import pty
import sys
import termios
import time

ctl, path, pw = sys.argv[1:4]
again = sys.argv[4] if len(sys.argv) > 4 else pw
pid, fd = pty.fork()
if pid == 0:
    os.execv(ctl, [ctl, "passwd", path])
shown = b""


def read_until(text, secs=5.0):
    """What the terminal shows, until text appears (True) or secs pass."""
    global shown
    end = time.monotonic() + secs
    while text not in shown and time.monotonic() < end:
        try:
            shown += os.read(fd, 4096)
        except OSError:
            break
    return text in shown


def type_quietly(prompt, line):
    """line typed after prompt, once igddctl turned the echo off."""
    if not read_until(prompt):
        return False
    end = time.monotonic() + 5
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    os.write(fd, line.encode() + b"\n")
    return True


ok = (type_quietly(b"New password for the admin page: ", pw) and
      type_quietly(b"The same again: ", again))
read_until(b"\0", 5.0)	# the rest, until igddctl closes the terminal
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status) if ok else 3)
