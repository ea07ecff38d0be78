# linkbook - one plain Makefile.
#   make            build liblinkbook (static and shared) and the linkbook command
#   make demo       install what is missing (Debian, as root), build, walk through a day
#   make test       build and run every test; prints "N passed, N failed"
#   make asan       the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks, built with optimisation
#   make bench-instr instructions per sync as the store grows (callgrind; needs valgrind)
#   make install PREFIX=/usr/local DESTDIR=   /   make uninstall   /   make clean

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := sqlite3 libsodium jansson
SYNC_PKGS := libcurl libmicrohttpd libpq
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
SYNC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(SYNC_PKGS) 2>/dev/null)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)
PQ_LIBS := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

OPT ?= -O2 -g
WARN := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wvla -Werror
CFLAGS ?= $(OPT)
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -fPIC $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(SYNC_CFLAGS) -Icore -Isync -I$(BUILD)
ALL_LDFLAGS := $(LDFLAGS)

CORE_SRC := $(sort $(wildcard core/*.c))
CORE_OBJ := $(patsubst core/%.c,$(BUILD)/core/%.o,$(CORE_SRC)) $(BUILD)/core/lb_schema_data.o
SERVER_SQL := $(sort $(wildcard schema/server/*.sql))
SERVER_PG_SQL := $(sort $(wildcard schema/server_pg/*.sql))
# sync/: the protocol (shared), the client (libcurl, linked into linkbook)
# and the server linkbookd (libmicrohttpd; libpq for its PostgreSQL backend):
# sync/lb_server*, lb_srv*, linkbookd.c.
PROTO_OBJ := $(BUILD)/sync/lb_proto.o
CLIENT_OBJ := $(patsubst sync/%.c,$(BUILD)/sync/%.o,$(wildcard sync/lb_client*.c))
SERVER_SRC := $(sort $(wildcard sync/lb_server*.c sync/lb_srv*.c sync/linkbookd.c))
SERVER_OBJ := $(patsubst sync/%.c,$(BUILD)/sync/%.o,$(SERVER_SRC)) $(BUILD)/sync/lb_schema_server.o \
	$(BUILD)/sync/lb_schema_server_pg.o
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(patsubst cli/%.c,$(BUILD)/cli/%.o,$(CLI_SRC))
SCHEMA_SQL := $(sort $(wildcard schema/device/*.sql))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

# Installed headers: everything in core/ but what only the core itself uses.
PUBLIC_HEADERS := $(filter-out core/lb_store_priv.h core/lb_schema.h,$(wildcard core/*.h))

LIB_A := $(BUILD)/liblinkbook.a
LIB_SO := $(BUILD)/liblinkbook.so
LINKBOOK := $(BUILD)/linkbook
LINKBOOKD := $(BUILD)/linkbookd

all: $(LIB_A) $(LIB_SO) $(LINKBOOK) $(LINKBOOKD)

$(BUILD)/core $(BUILD)/cli $(BUILD)/sync $(BUILD)/tests $(BUILD)/bench:
	mkdir -p $@

$(BUILD)/lb_schema_data.c: $(SCHEMA_SQL) schema/embed.sh | $(BUILD)/core
	sh schema/embed.sh lb_schema_device $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/lb_schema_server.c: $(SERVER_SQL) schema/embed.sh | $(BUILD)/sync
	sh schema/embed.sh lb_schema_server $(SERVER_SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/sync/lb_schema_server.o: $(BUILD)/lb_schema_server.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/lb_schema_server_pg.c: $(SERVER_PG_SQL) schema/embed.sh | $(BUILD)/sync
	sh schema/embed.sh lb_schema_server_pg $(SERVER_PG_SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/sync/lb_schema_server_pg.o: $(BUILD)/lb_schema_server_pg.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/sync/%.o: sync/%.c $(wildcard core/*.h sync/*.h) | $(BUILD)/sync
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/core/lb_schema_data.o: $(BUILD)/lb_schema_data.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/core/%.o: core/%.c $(wildcard core/*.h) | $(BUILD)/core
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/cli/%.o: cli/%.c $(wildcard core/*.h cli/*.h) | $(BUILD)/cli
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_A): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(CORE_OBJ)
	$(CC) -shared -Wl,-soname,liblinkbook.so.0 $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

$(LINKBOOK): $(CLI_OBJ) $(PROTO_OBJ) $(CLIENT_OBJ) $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(PROTO_OBJ) $(CLIENT_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(CURL_LIBS)

$(LINKBOOKD): $(SERVER_OBJ) $(PROTO_OBJ) $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $(SERVER_OBJ) $(PROTO_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(MHD_LIBS) $(PQ_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_A) $(wildcard tests/unit/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit -o $@ $< $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS)

# test_proto tests sync/lb_proto.c, outside the core library.
$(BUILD)/tests/test_proto: tests/unit/test_proto.c $(PROTO_OBJ) $(LIB_A) $(wildcard tests/unit/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit -o $@ $< $(PROTO_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS)

# test_srvstore tests linkbookd's store, outside the core library.
SERVER_LIB_OBJ := $(filter-out $(BUILD)/sync/linkbookd.o,$(SERVER_OBJ))
$(BUILD)/tests/test_srvstore: tests/unit/test_srvstore.c $(SERVER_LIB_OBJ) $(PROTO_OBJ) $(LIB_A) $(wildcard tests/unit/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit -pthread -o $@ $< $(SERVER_LIB_OBJ) $(PROTO_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(MHD_LIBS) $(PQ_LIBS) $(CMOCKA_LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(LIB_A) | $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS)

# The sync benchmarks (bench_lb.h) drive the real client: they link the client
# objects and libcurl; bench_proxy counts their bytes and requests on the
# socket (and PouchDB's).
BENCH_CLIENT_BIN := $(patsubst %,$(BUILD)/bench/%,bench_sync bench_peer bench_team bench_growth)
$(BENCH_CLIENT_BIN): $(BUILD)/bench/%: tests/bench/%.c tests/bench/bench_lb.h tests/bench/bench_common.h $(PROTO_OBJ) $(CLIENT_OBJ) $(LIB_A) | $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(PROTO_OBJ) $(CLIENT_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(CURL_LIBS)

# bench_growth counted by callgrind (tests/bench/growth_instr.sh).
$(BUILD)/bench/bench_growth_instr: tests/bench/bench_growth.c tests/bench/bench_lb.h tests/bench/bench_common.h $(PROTO_OBJ) $(CLIENT_OBJ) $(LIB_A) | $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -DBENCH_CALLGRIND -pthread -o $@ $< $(PROTO_OBJ) $(CLIENT_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(PKG_LIBS) $(CURL_LIBS)

$(BUILD)/bench/bench_proxy: tests/bench/bench_proxy.c | $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $<

# Only lb_ symbols leave the core library.
checksymbols: $(LIB_A)
	@bad=$$(nm -g --defined-only $(LIB_A) | awk 'NF==3 {print $$3}' | grep -v -e '^lb_' -e '^__odr_asan' || true); \
	if [ -n "$$bad" ]; then echo "non-lb_ symbols exported by core: $$bad"; exit 1; fi

test: all $(UNIT_BIN) checksymbols
	sh tests/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" test

bench:
	$(MAKE) BUILD=build-bench OPT="-O2 -DNDEBUG" all build-bench/bench/.built
	sh tests/bench/run.sh build-bench

bench-instr:
	$(MAKE) BUILD=build-bench OPT="-O2 -DNDEBUG" all build-bench/bench/bench_growth_instr
	sh tests/bench/growth_instr.sh build-bench

$(BUILD)/bench/.built: $(BENCH_BIN)
	touch $@

demo:
	sh tests/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/linkbook \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LINKBOOK) $(DESTDIR)$(PREFIX)/bin/linkbook
	install -m 755 $(LINKBOOKD) $(DESTDIR)$(PREFIX)/bin/linkbookd
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/liblinkbook.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/liblinkbook.so.0
	ln -sf liblinkbook.so.0 $(DESTDIR)$(PREFIX)/lib/liblinkbook.so
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/linkbook/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 packaging/linkbook.1 $(DESTDIR)$(PREFIX)/share/man/man1/linkbook.1
	sed 's|@PREFIX@|$(PREFIX)|' packaging/linkbook.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/linkbook.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/linkbook $(DESTDIR)$(PREFIX)/bin/linkbookd $(DESTDIR)$(PREFIX)/lib/liblinkbook.a \
		$(DESTDIR)$(PREFIX)/lib/liblinkbook.so $(DESTDIR)$(PREFIX)/lib/liblinkbook.so.0 \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/linkbook.pc $(DESTDIR)$(PREFIX)/share/man/man1/linkbook.1
	rm -rf $(DESTDIR)$(PREFIX)/include/linkbook

clean:
	rm -rf build build-asan build-bench

.PHONY: all test asan bench bench-instr demo install uninstall clean checksymbols
