"""Run a command in a pseudo-terminal, type an answer when a prompt appears,
and print everything the terminal showed. For testing interactive prompts.

usage: python3 pty_answer.py PROMPT ANSWER -- COMMAND [ARG...]
The command's environment and working directory are this process's.
Exits with the command's exit code.
"""
import os
import pty
import sys
import time

prompt, answer = sys.argv[1].encode(), sys.argv[2].encode()
command = sys.argv[sys.argv.index("--") + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown, answered, deadline = b"", False, time.time() + 120
while time.time() < deadline:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    shown += data
    if not answered and prompt in shown:
        os.write(fd, answer + b"\r")
        answered = True

sys.stdout.write(shown.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
