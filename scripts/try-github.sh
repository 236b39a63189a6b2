#!/usr/bin/env bash
# Try gitsource end to end on this machine, with no GitHub account and no
# AWS: a fake GitHub serves a repository, `gitsource serve` receives a signed
# push, and the archive lands in a directory and in versitygw (an S3-compatible
# server on loopback). Needs go, curl, unzip; versitygw is installed by
# `make tools`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
make -s tools
go build -o "$work/gitsource" ./cmd/gitsource
go build -o "$work/fakegithub" ./internal/cmd/fakegithub
export PATH="$(go env GOPATH)/bin:$PATH"
secret=demo-secret

"$work/fakegithub" -secret "$secret" -out "$work" > "$work/fake.env" 2> "$work/fake.log" & pids+=($!)
for _ in $(seq 50); do [ -s "$work/fake.env" ] && break; sleep 0.1; done
set -a; . "$work/fake.env"; set +a

# versitygw with a bucket "pipelines" (a directory of its posix backend).
mkdir -p "$work/s3/pipelines" "$work/versions"
export AWS_ACCESS_KEY_ID=demo-access AWS_SECRET_ACCESS_KEY=demo-secret-key AWS_REGION=us-east-1
ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY \
  versitygw --port 127.0.0.1:7070 posix --versioning-dir "$work/versions" "$work/s3" > "$work/vgw.log" 2>&1 & pids+=($!)

serve() { # serve SINK PORT
  GITHUB_WEBHOOK_SECRET=$secret GITSOURCE_SINK=$1 "$work/gitsource" serve --addr "127.0.0.1:$2" 2>> "$work/serve.log" & pids+=($!)
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$2/healthz" > /dev/null && return; sleep 0.1; done
  echo "serve did not start"; cat "$work/serve.log"; exit 1
}
push() { # push PORT
  curl -s -H @"$work/push.headers" --data-binary @"$work/push.json" "http://127.0.0.1:$1/github"; echo
}

echo "== to a directory"
serve "file://$work/artifacts" 8181
push 8181
unzip -l "$work/artifacts/octo/hello/feature/login.zip"
zipinfo "$work/artifacts/octo/hello/feature/login.zip" | grep -E 'build.sh|latest'
cat "$work/artifacts/octo/hello/feature/login.zip.json"; echo

echo "== to S3 (versitygw)"
serve "s3://pipelines/source?endpoint=http://127.0.0.1:7070&use_path_style=true&region=us-east-1" 8182
push 8182
curl -s -o "$work/s3.zip" -D - --aws-sigv4 "aws:amz:us-east-1:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  "http://127.0.0.1:7070/pipelines/source/octo/hello/feature/login.zip" | grep -iE '^(HTTP|content-length|x-amz-meta|etag)'
unzip -l "$work/s3.zip"
echo "== serve's log"
cat "$work/serve.log"
