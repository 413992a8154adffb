# The SMS centre of the Kannel bench: connects to Kannel's fake SMSC port and appends every MT
# line Kannel sends to OUT (one line per SMS part), so the bench can count what arrived.
#   python3 kannel_smsc.py PORT OUT
import socket, sys, time

port, out = int(sys.argv[1]), sys.argv[2]
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("cannot connect to the fake SMSC port")
with open(out, "ab", buffering=0) as f:
    for line in s.makefile("rb"):
        f.write(line)
