# umsgate's resident LibreOffice: starts one soffice with its own profile, connects to it over
# a UNO pipe and converts documents to PDF on request, until its standard input ends.
#
# Embedded in the umsgate binary and written to the converter's work folder at start; run with
# the Python that has the `uno` module (Debian: /usr/bin/python3 + python3-uno).
#
# Usage: helper.py SOFFICE PROFILE_URL PIPE_NAME START_TIMEOUT_SECONDS
#
# Protocol (one line each, tab-separated, UTF-8):
#   helper -> umsgate   READY                           soffice is up, requests may follow
#   umsgate -> helper   CONVERT <in> <out>              load <in> hidden, store <out> as PDF with
#                                                       the export filter of its kind (text,
#                                                       spreadsheet, presentation, drawing)
#   helper -> umsgate   OK                              <out> is written
#                       ERR <text>                      the document was refused (soffice is fine)
#                       DEAD <text>                     soffice is gone; the helper exits
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import DisposedException

MAX_TEXT = 300


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def say(*words):
    text = " ".join(str(w) for w in words).replace("\n", " ").replace("\r", " ")
    sys.stdout.write(text[:MAX_TEXT] + "\n")
    sys.stdout.flush()


def start(soffice, profile_url, pipe):
    return subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--nofirststartwizard",
            "-env:UserInstallation=" + profile_url,
            "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def connect(proc, pipe, deadline):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError("soffice exited with status %d at start" % proc.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("soffice did not answer in time")
            time.sleep(0.05)


def alive(proc, desktop):
    if proc.poll() is not None:
        return False
    try:
        desktop.getFrames()
        return True
    except Exception:
        return False


# the PDF export filter of each kind of document LibreOffice loads
FILTERS = (
    ("com.sun.star.text.TextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
)


def convert(desktop, src, dst):
    load = (
        prop("Hidden", True),
        prop("ReadOnly", True),
        # never update links (no remote content), never run macros, no dialogs
        prop("UpdateDocMode", 0),
        prop("MacroExecutionMode", 0),
        prop("Silent", True),
    )
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, load)
    if doc is None:
        raise ValueError("LibreOffice could not load the document")
    try:
        filt = next((f for (service, f) in FILTERS if doc.supportsService(service)), None)
        if filt is None:
            raise ValueError("not a text, spreadsheet, presentation or drawing")
        doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", filt),))
    finally:
        try:
            doc.close(True)
        except Exception:
            doc.dispose()


def main():
    soffice, profile_url, pipe, start_timeout = sys.argv[1:5]
    try:
        proc = start(soffice, profile_url, pipe)
    except Exception as e:
        say("DEAD", "cannot start", soffice + ":", e)
        return 1
    try:
        desktop = connect(proc, pipe, time.monotonic() + float(start_timeout))
    except Exception as e:
        say("DEAD", e)
        proc.kill()
        return 1
    say("READY")
    for line in sys.stdin:
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 3 or parts[0] != "CONVERT":
            say("ERR", "bad request")
            continue
        try:
            convert(desktop, parts[1], parts[2])
            say("OK")
        except DisposedException as e:
            say("DEAD", "connection to soffice lost:", e.Message or type(e).__name__)
            break
        except Exception as e:
            if not alive(proc, desktop):
                say("DEAD", "soffice died:", getattr(e, "Message", "") or type(e).__name__)
                break
            say("ERR", getattr(e, "Message", "") or e or type(e).__name__)
    try:
        desktop.terminate()
    except Exception:
        pass
    try:
        proc.wait(timeout=5)
    except Exception:
        proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
