#!/usr/bin/env bash
# image/boot-arm64.sh [RAW]: boots the arm64 image under emulation (qemu-system-aarch64, TCG,
# -cpu cortex-a72: Node crashes under some emulated CPUs such as -cpu max) with two blank
# disks, waits for the node to be ready (console line OIO_READY), does an S3 PUT/GET with
# awscli through a forwarded port, and powers it off. Prints seconds to ready and the node's
# memory. Works on a copy of the image; the original stays untouched.
set -euo pipefail
RAW="${1:-${OIO_IMAGE_OUT:-/tmp/oio-image}/arm64/oio-appliance-arm64.raw}"
W="$(mktemp -d /tmp/oio-arm64-boot.XXXXXX)"
QPID=""
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null || true; [ -n "${OIO_KEEP_TMP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT
cp --sparse=always "$RAW" "$W/disk.raw"
truncate -s 4G "$W/d1.raw" "$W/d2.raw"
cp /usr/share/AAVMF/AAVMF_VARS.fd "$W/vars.fd"
printf 'hostname=oio-arm64\nconsole_report=30\n' > "$W/seed"
MTOOLS_SKIP_CHECK=1 mcopy -o -i "$W/disk.raw@@1M" "$W/seed" ::/oio-seed.conf
S3=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
T0=$(date +%s)
qemu-system-aarch64 -accel tcg,thread=multi -machine virt -cpu cortex-a72 -m 2048 -smp 2 -display none -no-user-config \
  -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd \
  -drive if=pflash,format=raw,unit=1,file="$W/vars.fd" \
  -drive file="$W/disk.raw",format=raw,if=virtio -drive file="$W/d1.raw",format=raw,if=virtio -drive file="$W/d2.raw",format=raw,if=virtio \
  -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$S3-:6007 -device virtio-net-pci,netdev=n0 \
  -serial file:"$W/serial.log" -monitor unix:"$W/mon.sock",server,nowait &
QPID=$!
for _ in $(seq 1 1200); do
  grep -q 'OIO_READY\|node NOT ready' "$W/serial.log" 2>/dev/null && break
  kill -0 $QPID 2>/dev/null || { echo "qemu exited"; tail -50 "$W/serial.log"; exit 1; }
  sleep 1
done
READY_S=$(( $(date +%s) - T0 ))
grep -a 'oio:' "$W/serial.log" || true
grep -q OIO_READY "$W/serial.log" || { echo "boot-arm64: node not ready after ${READY_S} s"; tail -40 "$W/serial.log"; exit 1; }
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demosecretkey123 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
head -c 2000000 /dev/urandom > "$W/up.bin"
aws --endpoint-url "http://127.0.0.1:$S3" s3 mb s3://arm64test >/dev/null
aws --endpoint-url "http://127.0.0.1:$S3" s3 cp "$W/up.bin" s3://arm64test/up.bin >/dev/null
aws --endpoint-url "http://127.0.0.1:$S3" s3 cp s3://arm64test/up.bin "$W/back.bin" >/dev/null
cmp "$W/up.bin" "$W/back.bin"
echo "boot-arm64: QEMU start to all services healthy: ${READY_S} s; S3 PUT/GET OK"
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('$W/mon.sock'); s.sendall(b'system_powerdown\n')"
for _ in $(seq 1 120); do kill -0 $QPID 2>/dev/null || break; sleep 1; done
kill -0 $QPID 2>/dev/null && kill $QPID || true
QPID=""
