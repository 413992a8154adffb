#!/usr/bin/env bash
# Hands a "received" fax to the HylaFAX peer of scripts/hylafax/start.sh the way faxgetty does:
# copies the TIFF into recvq/ (owner uucp, mode 0644) and runs FaxRcvdCmd as uucp in the spool:
#   FaxRcvdCmd recvq/faxNNNNN.tif ttyFAKE COMMID "" CALLER "" DIALLED
# FaxRcvdCmd is $FAXRCVD_CMD (a program and its leading arguments, word-split; e.g.
# "/usr/bin/umsgate --config /etc/umsgate.toml hylafax-received"), default bin/faxrcvd.
#
#   scripts/hylafax/inject.sh STATE_DIR FILE.tif CALLER DIALLED
# Prints the recvq path; exits with FaxRcvdCmd's status.
set -euo pipefail
[ $# = 4 ] || { echo "usage: $0 STATE_DIR FILE.tif CALLER DIALLED" >&2; exit 2; }
STATE=$(cd "$1" && pwd); S=$STATE/spool
n=$(find "$S/recvq" -maxdepth 1 -name 'fax*.tif' | wc -l)
f=$(printf 'recvq/fax%05d.tif' $((n + 1)))
install -o uucp -g uucp -m 0644 "$2" "$S/$f"
commid=$(printf '%08d' $((RANDOM * 32768 + RANDOM)))
# shellcheck disable=SC2086
read -r -a cmd <<< "${FAXRCVD_CMD:-bin/faxrcvd}"
cd "$S"
rc=0
setpriv --reuid=uucp --regid=uucp --clear-groups "${cmd[@]}" "$f" ttyFAKE "$commid" "" "$3" "" "$4" || rc=$?
echo "$S/$f"
exit $rc
