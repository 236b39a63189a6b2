# The tools the tests and checks need are pinned here and installed from the
# Go module proxy into $(go env GOPATH)/bin.
VERSITYGW_VERSION   := v1.8.0
STATICCHECK_VERSION := v0.8.2
GOBIN               := $(shell go env GOPATH)/bin
FUZZTIME            ?= 10s
# Minimizing each new input takes up to 60 s by default, during which the
# fuzzer explores nothing: the payloads are kilobytes of JSON, so keep it short.
FUZZMINIMIZETIME    ?= 5s

.PHONY: test tools check fuzz bench build

## test: install versitygw if needed and run every test
test: tools
	go test -count=1 ./...

## tools: install the test tools that are missing
tools:
	@go version -m $(GOBIN)/versitygw 2>/dev/null | grep -q 'mod.*github.com/versity/versitygw[[:space:]]*$(VERSITYGW_VERSION)' || \
		{ echo "installing versitygw $(VERSITYGW_VERSION)"; go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); }
	@go version -m $(GOBIN)/goaws 2>/dev/null | grep -q 'mod.*github.com/Admiral-Piett/goaws[[:space:]]*v0.4.5' || \
		{ echo "installing goaws v0.4.5"; GOBIN=$(GOBIN) go install github.com/Admiral-Piett/goaws/app/cmd@v0.4.5 && mv $(GOBIN)/cmd $(GOBIN)/goaws; }
	@go version -m $(GOBIN)/aws-lambda-rie 2>/dev/null | grep -q 'mod.*github.com/aws/aws-lambda-runtime-interface-emulator[[:space:]]*v0.0.0-20261030222936-bef5c4ba774d' || \
		{ echo "installing aws-lambda-rie"; GOBIN=$(GOBIN) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d; }

## check: formatting, vet and staticcheck
check:
	@test -x $(GOBIN)/staticcheck || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(GOBIN)/staticcheck ./...

## fuzz: run every fuzz target for FUZZTIME each (see scripts/fuzz.sh)
fuzz:
	@FUZZTIME=$(FUZZTIME) FUZZMINIMIZETIME=$(FUZZMINIMIZETIME) scripts/fuzz.sh

## build: the command, with its version
build:
	go build -o bin/gitsource ./cmd/gitsource
