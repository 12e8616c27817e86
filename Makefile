# Dualtrack - build, test, run. `make help` lists the targets.
#
# Two build variants share the sources: build/release (-O2, for `make up` and
# benchmarks) and build/asan (AddressSanitizer + UBSan, for `make check`).
#
# Everything is found by rule, nothing by hand-kept lists:
#   - a room is a folder of modules: proto/ and services/<room>/; its .c
#     files (all but main.c) make one static library, build/V/lib/libdt_<room>.a
#   - a program is services/<name>/main.c with its room and the rooms below it
#   - a unit test is tests/unit/<room>/test_<module>.c, an integration tool
#     tests/integration/<name>.c, a benchmark tool bench/tools/<name>.c
# Programs and tests link the libraries, so each takes only the modules it
# uses. Includes name their room: #include "rules/engine.h" (-I. for proto/,
# -Iservices for the rest, -Itests for the shared test header).

# A target named by its path builds in its variant (one variant a command):
# make build/asan/tests/test_budget
ifneq ($(filter build/asan/%,$(MAKECMDGOALS)),)
VARIANT  ?= asan
endif
VARIANT  ?= release
BUILD    := build/$(VARIANT)
CC       ?= cc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
    -I. -Iservices -Itests -I/usr/include/postgresql
ifeq ($(VARIANT),asan)
CFLAGS_VARIANT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_VARIANT := -fsanitize=address,undefined
else
CFLAGS_VARIANT := -O2
LDFLAGS_VARIANT :=
endif
CFLAGS  := $(CFLAGS_COMMON) $(CFLAGS_VARIANT) $(EXTRA_CFLAGS)
LDLIBS  := -lczmq -lzmq -lmsgpackc -lpq -ljansson -lmicrohttpd -lgnutls -lutf8proc -lyaml -lpthread -lm

# Rooms from the top of the stack to the bottom: a room uses only rooms after it
ROOMS      := cli coordinator track store rules journal proto base
room_dir    = $(if $(filter proto,$(1)),proto,services/$(1))
room_src    = $(filter-out %/main.c,$(wildcard $(call room_dir,$(1))/*.c))
obj         = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
lib         = $(BUILD)/lib/libdt_$(1).a
LIBS       := $(foreach r,$(ROOMS),$(call lib,$(r)))
LINK_LIBS  := -Wl,--start-group $(LIBS) -Wl,--end-group
MIGRATIONS := $(sort $(wildcard deploy/migrations/*.sql))

PROGRAMS   := $(BUILD)/bin/dualtrack-trackd $(BUILD)/bin/dualtrack-coordinator $(BUILD)/bin/dualtrack
UNIT_SRC   := $(wildcard tests/unit/*/test_*.c)
IT_SRC     := $(wildcard tests/integration/*.c)
BENCH_SRC  := $(wildcard bench/tools/*.c)
TOOLS      := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(UNIT_SRC) $(IT_SRC))) \
              $(patsubst %.c,$(BUILD)/bench/%,$(notdir $(BENCH_SRC)))

.PHONY: all build asan check unit up down clean deps help bench fuzz chaos
all build: $(PROGRAMS) $(TOOLS)

help:
	@echo "make            build the daemons, the CLI, the tests' and the benchmark's tools"
	@echo "make up         run the whole system locally (private PostgreSQL under var/)"
	@echo "make down       stop it"
	@echo "make check      every test, under ASan+UBSan; ends with 'N passed, N failed'"
	@echo "make unit       the unit tests alone (ASan+UBSan); tests/run NAME runs one integration test"
	@echo "make deps       install the Debian packages (as root) or list them"
	@echo "make bench      the benchmark (bench/run): the system against raw COPY"
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

# The schema travels inside the coordinator: the store library holds it
build/gen/migrations.c: scripts/embed-migrations $(MIGRATIONS)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@sh scripts/embed-migrations $(MIGRATIONS) > $@

$(BUILD)/obj/gen/migrations.o: build/gen/migrations.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

define room_rules
$(call lib,$(1)): $(call obj,$(call room_src,$(1))) $(if $(filter store,$(1)),$(BUILD)/obj/gen/migrations.o)
	@mkdir -p $$(dir $$@)
	@echo "  AR      $$@"
	@rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach r,$(ROOMS),$(eval $(call room_rules,$(r))))

$(BUILD)/bin/dualtrack-trackd: $(BUILD)/obj/services/track/main.o $(LIBS)
$(BUILD)/bin/dualtrack-coordinator: $(BUILD)/obj/services/coordinator/main.o $(LIBS)
$(BUILD)/bin/dualtrack: $(BUILD)/obj/services/cli/main.o $(LIBS)
# Only the CLI speaks HTTP out (dualtrack relay, libcurl)
$(BUILD)/bin/dualtrack: LDLIBS += -lcurl-gnutls
$(PROGRAMS):
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS_VARIANT) $< $(LINK_LIBS) $(LDLIBS) -o $@

# Tests and tools: one source each, linked against the libraries
define tool_rule
$(2): $(call obj,$(1)) $(LIBS)
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	@$$(CC) $$(LDFLAGS_VARIANT) $$< $$(LINK_LIBS) $$(LDLIBS) -o $$@
endef
$(foreach s,$(UNIT_SRC) $(IT_SRC),$(eval $(call tool_rule,$(s),$(BUILD)/tests/$(basename $(notdir $(s))))))
$(foreach s,$(BENCH_SRC),$(eval $(call tool_rule,$(s),$(BUILD)/bench/$(basename $(notdir $(s))))))

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
	@bench/run

check:
	@scripts/deps --quiet --test
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
