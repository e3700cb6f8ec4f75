#!/bin/sh
# PID 1 of the lab's User-Mode Linux kernel (rendered by lab/host.py). The root is the host's filesystem
# (hostfs), so everything that must not land on the host goes to a tmpfs on /run (netns files, sockets, PID
# files, sshd's folder). It runs the lab agent and powers off when the agent ends.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root PYTHONDONTWRITEBYTECODE=1 PYTHONPATH={repo}
# UML restores only the legacy FP/SSE registers (tests/kernel/uml.py and lab/uml.py explain): keep glibc and
# OpenSSL off AVX and its successors.
export GLIBC_TUNABLES={tunables}
export OPENSSL_ia32cap='{openssl_ia32cap}'
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
# Shells in here run root's .bashrc, whose `pyenv init` locks a file in the host's ~/.pyenv/shims (hostfs):
# a UML halted mid-rehash would leave that lock and stall every later ssh login on the host for 60 s.
[ -d /root/.pyenv/shims ] && mount -t tmpfs tmpfs /root/.pyenv/shims
echo {modprobe} > /proc/sys/kernel/modprobe
{modprobe} -a {preload} >> {log} 2>&1
ip link set lo up
cd {repo}
{python} -m lab.agent --state {state} --max-seconds {max_seconds} >> {log} 2>&1
RC=$?
sync
echo $RC > /proc/exitcode
halt -f --no-wtmp
