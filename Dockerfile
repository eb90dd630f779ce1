# syntax=docker/dockerfile:1
# Perpetuo as a container: the test suite and `bun build --compile` run in the first stage; the
# image that ships holds only the single binary on a minimal glibc base, running as a non-root user.
#
#   docker build -t perpetuo .                      # runs the tests (embedded database), then builds
#   docker build --build-arg SKIP_TESTS=1 -t perpetuo .
#   docker run -p 8080:8080 -e PERPETUO_SECRET="$(openssl rand -base64 48)" -v perpetuo-data:/data perpetuo
#
# See docker-compose.yml for Perpetuo with PostgreSQL 16.

FROM oven/bun:1.4.4 AS build
WORKDIR /src
# Dependencies first, so a code change does not re-download them.
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY . .
ARG SKIP_TESTS=0
# The suite on the embedded database (no DATABASE_URL here); it includes test/binary.test.ts, which
# compiles the binary and runs it alone in an empty directory. The browser tests skip themselves
# (no Chromium in this image); CI runs them.
RUN if [ "$SKIP_TESTS" = "1" ]; then echo "tests skipped"; else env -u DATABASE_URL bun run test; fi
RUN bun run build \
 && ./dist/perpetuo --version \
 && mkdir -p /out/data \
 && cp dist/perpetuo /out/perpetuo

# glibc, CA certificates and tzdata, no shell, no package manager; the `nonroot` user is uid 65532.
# The binary needs nothing else: Bun's runtime, the code, the SQL migrations, the dashboard's files
# and PGlite's WebAssembly are all inside it.
FROM gcr.io/distroless/base-debian12:nonroot AS runtime
COPY --from=build /out/perpetuo /usr/local/bin/perpetuo
# An empty /data owned by the runtime user: a named volume mounted there starts with this owner.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
# Embedded database, generated files and the log spool live here; with DATABASE_URL only the spool.
VOLUME /data
EXPOSE 8080
# No curl in this image: the binary checks itself (GET http://127.0.0.1:$PORT/healthz, exit 0 or 1).
# The first start on an empty /data initialises the embedded database, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/perpetuo", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/perpetuo"]
CMD ["serve"]
