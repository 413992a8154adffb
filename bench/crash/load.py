#!/usr/bin/env python3
"""Load generators and the final count for bench/crash/run.sh.

  load.py smtp PORT OUT STOPFILE THREADS   outbound: send mail for +49 30 … @fax.example.com,
      each with a unique subject tag; append the tag to OUT only after the server's 250.
      A message that got no 250 (connection lost, 4xx) is sent again with the same tag, as
      an MTA would, until it gets one; so a duplicate at the gateway is possible, a loss not.
  load.py received DIR OUT STOPFILE RATE   inbound: write received SMS into DIR the way an
      engine does (.tmp folder, fsync, rename, fsync) at RATE per second; the calling number
      is the tag; append it to OUT once published.
  load.py count STATE SINKDUMP OUT_ACCEPTED IN_WRITTEN   prints the tallies (JSON).
"""
import collections
import json
import os
import re
import smtplib
import sys
import threading
import time


def smtp(port, out, stop, threads):
    lock = threading.Lock()
    log = open(out, "a", buffering=1)
    counter = iter(range(10**9))

    def worker(t):
        s = None
        tag = None
        while not os.path.exists(stop):
            if tag is None:
                with lock:
                    tag = f"crash-{t}-{next(counter)}"
            msg = (f"From: <bench@example.com>\r\nTo: <+4930123456@fax.example.com>\r\n"
                   f"Subject: {tag}\r\nMessage-ID: <{tag}@bench.test>\r\n\r\n"
                   + "Crash bench body line.\r\n" * 40)
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.test", timeout=30)
                s.sendmail("bench@example.com", ["+4930123456@fax.example.com"], msg)
                with lock:
                    log.write(tag + "\n")
                tag = None
            except Exception:
                try:
                    if s is not None:
                        s.close()
                except Exception:
                    pass
                s = None
                time.sleep(0.2)
        if s is not None:
            try:
                s.quit()
            except Exception:
                pass

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()


def fsync_dir(d):
    fd = os.open(d, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def received(root, out, stop, rate):
    log = open(out, "a", buffering=1)
    i = 0
    t0 = time.time()
    while not os.path.exists(stop):
        tag = f"+49151{70000000 + i}"
        name = f"C{i:015X}"
        tmp = os.path.join(root, f".{name}.tmp")
        os.mkdir(tmp)
        m = {"service": "sms", "calling": tag, "called": "+49 8142 4799123",
             "received_at": "2026-11-26T10:15:00Z", "files": [], "text": f"crash bench {tag}"}
        p = os.path.join(tmp, "message.json")
        with open(p, "w") as f:
            json.dump(m, f)
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(tmp)
        os.rename(tmp, os.path.join(root, name))
        fsync_dir(root)
        log.write(tag + "\n")
        i += 1
        delay = t0 + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)


def count(state, dump, out_accepted, in_written):
    res = {}
    accepted = [l.strip() for l in open(out_accepted) if l.strip()]
    gw = collections.Counter()
    job_ids = collections.Counter()
    torn = 0
    sent = os.path.join(state, "gateway/sim/sent.jsonl")
    if os.path.exists(sent):
        for line in open(sent, errors="replace"):
            try:
                j = json.loads(line)
                gw[j.get("subject")] += 1
                job_ids[j.get("job_id")] += 1
            except ValueError:
                torn += 1
    acc = set(accepted)
    refused_dir = os.path.join(state, "smtp-in/error")
    archived = set()
    for f in os.listdir(refused_dir) if os.path.isdir(refused_dir) else []:
        if f.endswith(".eml"):
            m = re.search(rb"^Subject: (crash-\S+)", open(os.path.join(refused_dir, f), "rb").read(), re.M)
            if m:
                archived.add(m.group(1).decode())
    res["out_accepted_250"] = len(accepted)
    res["out_accepted_unique"] = len(acc)
    res["out_at_gateway_unique"] = len(acc & set(gw))
    res["out_archived_smtp_in_error"] = len(acc & archived)
    res["out_lost"] = len(acc - set(gw) - archived)
    res["out_lost_tags"] = sorted(acc - set(gw) - archived)[:20]
    res["out_duplicate_jobs"] = sum(c - 1 for t, c in gw.items() if c > 1)
    res["out_duplicate_job_ids"] = sum(c - 1 for c in job_ids.values() if c > 1)
    res["out_at_gateway_without_250"] = len(set(gw) - acc - {None})
    res["out_torn_lines"] = torn
    written = [l.strip() for l in open(in_written) if l.strip()]
    sink = collections.Counter()
    mids = collections.Counter()
    for f in os.listdir(dump):
        data = open(os.path.join(dump, f), "rb").read()
        m = re.search(rb"^From: .*?<?(\+49151\d+)@sms\.example\.com", data, re.M)
        if m:
            sink[m.group(1).decode()] += 1
            mid = re.search(rb"^Message-ID: *(\S+)", data, re.M | re.I)
            mids[mid.group(1) if mid else f] += 1
    bad = set()
    bdir = os.path.join(state, "smtp-out/badmail")
    for f in os.listdir(bdir) if os.path.isdir(bdir) else []:
        if f.endswith(".eml"):
            m = re.search(rb"^From: .*?<?(\+49151\d+)@sms", open(os.path.join(bdir, f), "rb").read(), re.M)
            if m:
                bad.add(m.group(1).decode())
    rerr = os.path.join(state, "received/error")
    rerr_n = len(os.listdir(rerr)) if os.path.isdir(rerr) else 0
    w = set(written)
    res["in_written"] = len(w)
    res["in_delivered_unique"] = len(w & set(sink))
    res["in_badmail"] = len(w & bad)
    res["in_received_error"] = rerr_n
    res["in_lost"] = len(w - set(sink) - bad)
    res["in_lost_tags"] = sorted(w - set(sink) - bad)[:20]
    res["in_duplicate_mails"] = sum(c - 1 for c in sink.values() if c > 1)
    res["in_same_message_id_twice"] = sum(c - 1 for c in mids.values() if c > 1)
    print(json.dumps(res))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "smtp":
        smtp(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "received":
        received(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    elif cmd == "count":
        count(*sys.argv[2:6])
    else:
        sys.exit(f"unknown command {cmd}")
