# syntax=docker/dockerfile:1
#
# docker build --build-arg VERSION=$(git describe --tags --always) \
#              --build-arg COMMIT=$(git rev-parse HEAD) -t strata .
# docker run -p 2379:2379 -v strata-data:/data strata
#
# Build stage: a static binary (modernc.org/sqlite is pure Go, so
# CGO_ENABLED=0 loses nothing).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/strata ./cmd/strata \
 && mkdir -p /out/data

# Run stage: no shell, no package manager; CA certificates included (for a
# managed PostgreSQL over TLS); runs as the unprivileged user 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strata /usr/local/bin/strata
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
# The etcd API. Metrics and /health stay on 127.0.0.1:8080 inside the
# container (the health check below uses them); publish them with
# --metrics-bind-address=0.0.0.0:8080 and -p 8080:8080.
EXPOSE 2379
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/strata", "health", "--url", "http://127.0.0.1:8080/health"]
ENTRYPOINT ["/usr/local/bin/strata"]
# A container must listen beyond loopback to be reachable: without
# --server-cert-file/--server-key-file Strata warns that the API is open.
CMD ["--listen-address=0.0.0.0:2379", "--endpoint=sqlite:///data/state.db"]
