# Dualtrack - build, test, run. `make help` lists the targets.
#
# Two build variants share the sources: build/release (-O2, for `make up` and
# benchmarks) and build/asan (AddressSanitizer + UBSan, for `make check`).

VARIANT  ?= release
BUILD    := build/$(VARIANT)
CC       ?= cc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
    -Iproto -Iservices/common -Iservices/track -Iservices/coordinator -Iservices/cli \
    -I/usr/include/postgresql -Ibuild/gen
ifeq ($(VARIANT),asan)
CFLAGS_VARIANT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_VARIANT := -fsanitize=address,undefined
else
CFLAGS_VARIANT := -O2
LDFLAGS_VARIANT :=
endif
CFLAGS  := $(CFLAGS_COMMON) $(CFLAGS_VARIANT) $(EXTRA_CFLAGS)
LDLIBS  := -lczmq -lzmq -lmsgpackc -lpq -ljansson -lmicrohttpd -lpthread -lm

# Modules, listed so a half-written file in the tree never breaks the build
CORE_SRC  := proto/event.c proto/wire.c proto/mpscan.c services/common/buf.c services/common/log.c \
             services/common/config.c services/common/signals.c services/common/jsonmp.c \
             services/common/metrics.c services/common/httpd.c services/common/curve.c \
             services/common/envelope.c services/common/heap.c
TRACK_SRC := services/track/trackd.c services/track/journal.c
COORD_SRC := services/coordinator/writeset.c services/coordinator/copyrow.c \
             services/coordinator/store.c services/coordinator/coordinator.c \
             services/coordinator/rules.c services/coordinator/rulesconfig.c \
             services/coordinator/tonebook.c services/coordinator/history.c \
             services/coordinator/decision.c
CLI_SRC   := services/cli/publish.c services/cli/gen.c services/cli/watch.c services/cli/keygen.c \
             services/cli/report.c
MIGRATIONS := $(sort $(wildcard deploy/migrations/*.sql))

UNIT_TESTS := $(filter $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*.c)),test_event test_copyrow test_journal test_rules test_tonebook test_metrics test_httpd test_mpscan)
IT_TOOLS   := $(patsubst tests/integration/%.c,%,$(sort $(wildcard tests/integration/*.c))) \
              $(patsubst tests/bench/%.c,%,$(sort $(wildcard tests/bench/*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ  := $(call obj,$(CORE_SRC))
TRACK_OBJ := $(call obj,$(TRACK_SRC))
COORD_OBJ := $(call obj,$(COORD_SRC)) $(BUILD)/obj/gen/migrations.o
CLI_OBJ   := $(call obj,$(CLI_SRC))
ALL_LIB_OBJ := $(COORD_OBJ) $(TRACK_OBJ) $(CLI_OBJ) $(CORE_OBJ)

BINS := $(BUILD)/bin/dualtrack-trackd $(BUILD)/bin/dualtrack-coordinator $(BUILD)/bin/dualtrack

.PHONY: all build asan check unit up down clean deps help bench fuzz chaos
all build: $(BINS) $(addprefix $(BUILD)/tests/,$(UNIT_TESTS) $(IT_TOOLS))

help:
	@echo "make            build the daemons and the CLI (build/release/bin)"
	@echo "make up         run the whole system locally (private PostgreSQL under var/)"
	@echo "make down       stop it"
	@echo "make check      every test, under ASan+UBSan; ends with 'N passed, N failed'"
	@echo "make deps       install the Debian packages (as root) or list them"
	@echo "make bench      the benchmark (scripts/bench): the system against raw COPY"
	@echo "make fuzz       libFuzzer on the decoder/validator (FUZZ_SECONDS per target, default 60)"
	@echo "make chaos      200,000 events through kills and restarts; nothing lost, nothing twice"

deps:
	@scripts/deps

asan:
	@$(MAKE) --no-print-directory VARIANT=asan all

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

build/gen/migrations.c: scripts/embed-migrations $(MIGRATIONS)
	@mkdir -p $(dir $@)
	sh scripts/embed-migrations $(MIGRATIONS) > $@

$(BUILD)/obj/gen/migrations.o: build/gen/migrations.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/bin/dualtrack-trackd: $(BUILD)/obj/services/track/main.o $(TRACK_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_VARIANT) $^ $(LDLIBS) -o $@

$(BUILD)/bin/dualtrack-coordinator: $(BUILD)/obj/services/coordinator/main.o $(COORD_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_VARIANT) $^ $(LDLIBS) -o $@

$(BUILD)/bin/dualtrack: $(BUILD)/obj/services/cli/main.o $(CLI_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_VARIANT) $^ $(LDLIBS) -o $@

# Unit tests and integration tools link whatever modules they use
$(BUILD)/tests/%: tests/unit/%.c $(ALL_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(ALL_LIB_OBJ) $(LDFLAGS_VARIANT) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/integration/%.c $(ALL_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(ALL_LIB_OBJ) $(LDFLAGS_VARIANT) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/bench/%.c $(ALL_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(ALL_LIB_OBJ) $(LDFLAGS_VARIANT) $(LDLIBS) -o $@

# libFuzzer on the decoder and validator (clang); FUZZ_SECONDS per target
FUZZ_SECONDS ?= 60
fuzz:
	@tests/fuzz/run $(FUZZ_SECONDS)

# The fault test at full size: 2 x 100,000 events through kill -9 and
# restarts of every daemon and of PostgreSQL (release build)
chaos:
	@$(MAKE) --no-print-directory all
	@FAULTS_EVENTS=100000 VARIANT=release tests/run faults

bench:
	@scripts/deps --quiet
	@$(MAKE) --no-print-directory all
	@scripts/bench

check:
	@scripts/deps --quiet
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory VARIANT=asan all
	@tests/run

unit:
	@$(MAKE) --no-print-directory VARIANT=asan all
	@tests/run --unit

up:
	@scripts/deps --quiet
	@$(MAKE) --no-print-directory all
	@scripts/up

down:
	@scripts/down

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
